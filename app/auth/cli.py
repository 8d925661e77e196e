"""`flask --app wsgi users ...`: create accounts from the shell (first admin, automation)."""

from __future__ import annotations

from datetime import date, timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.auth.models import Agency, Role
from app.auth.services import AccountError, create_agency, create_user, record_training
from app.db import unit_of_work

users_cli = AppGroup("users", help="User accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", default="", help="Full name (defaults to the email).")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Repeat for several roles.",
)
@click.option("--agency", default=None, help="Agency name, for agency users.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option(
    "--trained-until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Record department ALPR training completed today, valid until this date.",
)
def create(
    email: str, name: str, roles: tuple[str, ...], agency: str | None, password: str, trained_until
) -> None:
    """Create a user with one or more roles."""
    try:
        with unit_of_work() as session:
            agency_row = None
            if agency:
                agency_row = session.scalars(select(Agency).where(Agency.name == agency)).first()
                agency_row = agency_row or create_agency(session, "cli:users", name=agency)
            user = create_user(
                session,
                "cli:users",
                email=email,
                name=name,
                password=password,
                roles=roles,
                agency=agency_row,
            )
            if trained_until:
                record_training(
                    session,
                    "cli:users",
                    user,
                    course="Department ALPR training",
                    completed_on=date.today() - timedelta(days=1),
                    expires_on=trained_until.date(),
                )
            click.echo(f"created user {user.id} {user.email} roles={','.join(sorted(roles))}")
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
