"""`flask --app wsgi jobs ...`: list the schedules, run one now, or run them in-process."""

from __future__ import annotations

import json
import time

import click
from flask import current_app
from flask.cli import AppGroup

from workers.schedules import SCHEDULES

jobs_cli = AppGroup("jobs", help="Background jobs and their schedules.")


@jobs_cli.command("list")
def list_schedules() -> None:
    """Print each schedule (cron in UTC)."""
    for schedule in SCHEDULES:
        click.echo(f"{schedule.name}\t{schedule.cron}")


@jobs_cli.command("run")
@click.argument("name", type=click.Choice([s.name for s in SCHEDULES]))
def run_now(name: str) -> None:
    """Run one scheduled job now, in this process."""
    schedule = next(s for s in SCHEDULES if s.name == name)
    click.echo(json.dumps(schedule.func(), default=str))


@jobs_cli.command("recover")
def recover_now() -> None:
    """Requeue tracked jobs that nothing will finish (Redis was down, a worker was killed)."""
    from workers.recovery import recover

    outcome = recover(current_app.extensions["alpr_sessionmaker"])
    click.echo(json.dumps(outcome))


@jobs_cli.command("scheduler")
def scheduler() -> None:
    """Run the schedules in this process (the embedded default, when there is no Redis)."""
    from workers.inprocess import start_scheduler

    if current_app.config.get("REDIS_URL"):
        raise click.ClickException(
            "REDIS_URL is set: run `rq cron workers/cron_config.py` instead."
        )
    thread = start_scheduler(current_app._get_current_object())
    click.echo("in-process scheduler running; Ctrl-C to stop")
    while thread.is_alive():
        time.sleep(1)
