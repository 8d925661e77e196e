"""`flask --app wsgi demo seed`: demo accounts for every role, then each domain's demo data."""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from app.db import unit_of_work
from app.demo.accounts import seed_accounts
from app.demo.alpr import seed_alpr
from app.demo.breaches import seed_breaches
from app.demo.images import seed_image_reads
from app.demo.investigations import seed_investigations
from app.demo.requests import seed_requests
from app.demo.retention import seed_retention

demo_cli = AppGroup("demo", help="Demonstration data.")

#: Each domain's demo data, in order (later seeders use the devices and cases of earlier ones).
DEMO_SEEDERS: tuple[Callable[[Session], list[str]], ...] = (
    seed_alpr,
    seed_image_reads,
    seed_investigations,
    seed_retention,
    seed_breaches,
    seed_requests,
)


@demo_cli.command("seed")
def seed() -> None:
    """Create demo users for every role (and each domain's demo data); safe to run twice.

    Refused in production: the demo passwords are published, so each account would be open.
    """
    if current_app.config["PRODUCTION"]:
        raise click.ClickException(
            "demo seed is refused in production (ALPR_ENV or FLASK_ENV is production): it "
            "creates accounts whose passwords are published. Nothing was created; create real "
            "accounts with `flask --app wsgi users create`."
        )
    with unit_of_work() as session:
        account_lines = seed_accounts(
            session, password_must_change=not current_app.config["DEVELOPMENT"]
        )
        other_lines = [line for seeder in DEMO_SEEDERS for line in seeder(session)]
    if account_lines:
        click.echo("Demo accounts (shown once; change them before any real use):")
        click.echo(f"{'email':24} {'password':28} roles")
        for line in account_lines:
            click.echo(line)
    else:
        click.echo("Demo accounts already exist.")
    for line in other_lines:
        click.echo(line)
