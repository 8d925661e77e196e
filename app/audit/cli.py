"""`flask --app wsgi audit verify`: exit 0 when intact, 1 naming the first bad entry."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.audit.services import verify, verify_and_record
from app.db import unit_of_work

audit_cli = AppGroup("audit", help="The hash-chained audit trail.")


@audit_cli.command("verify")
@click.option("--record/--no-record", default=True, help="Append the outcome to the trail.")
def verify_command(record: bool) -> None:
    """Verify the whole chain."""
    with unit_of_work() as session:
        result = verify_and_record(session, "cli:audit-verify") if record else verify(session)
    if result.ok:
        click.echo(result.describe())
        return
    click.echo(result.describe(), err=True)
    sys.exit(1)
