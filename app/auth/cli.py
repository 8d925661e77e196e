"""`flask --app wsgi users ...`: create accounts from the shell (first admin, automation).

The shell is trusted as to who acts (it is how the first Deputy Chief is made), but a
department role or a training record still names its written authorisation (425.3).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from app.auth.accounts import create_account
from app.auth.authorisations import WrittenAuthorisation
from app.auth.errors import AccountError
from app.auth.models import Role, user_by_email
from app.auth.passwords import set_temporary_password
from app.auth.training import record_training
from app.core.cli import command_unit_of_work
from app.core.timeutil import local_today

users_cli = AppGroup("users", help="User accounts.")

#: The option that carries each field of the written authorisation.
AUTHORISATION_OPTIONS = {
    "authorised_by": "--authorised-by",
    "authorised_on": "--authorised-on",
    "document": "--authorisation",
}


@contextmanager
def _naming_options() -> Iterator[None]:
    """A refusal of an authorisation field names the option to fix."""
    try:
        yield
    except AccountError as exc:
        option = AUTHORISATION_OPTIONS.get(exc.field or "")
        if option is None:
            raise
        raise AccountError(f"{option}: {exc}", field=exc.field) from exc


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
    help="Record department ALPR training completed yesterday, valid until this date.",
)
@click.option(
    "--authorised-by",
    default="",
    help="Who authorised the department roles and training in writing (required for them).",
)
@click.option(
    "--authorised-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The date of the written authorisation (default: today).",
)
@click.option(
    "--authorisation",
    "document",
    default="",
    help="The written authorisation's document or reference (required with --authorised-by).",
)
def create(
    email: str,
    name: str,
    roles: tuple[str, ...],
    agency: str | None,
    password: str,
    trained_until,
    authorised_by: str,
    authorised_on,
    document: str,
) -> None:
    """Create a user with roles (department roles and training on a written authorisation)."""
    authorisation = None
    if authorised_by or document:
        on = authorised_on.date() if authorised_on else local_today()
        authorisation = WrittenAuthorisation(authorised_by, on, document)
    with command_unit_of_work(AccountError) as session, _naming_options():
        user = create_account(
            session,
            "cli:users",
            email=email,
            name=name,
            password=password,
            roles=roles,
            agency_name=agency,
            password_must_change=not current_app.config["DEVELOPMENT"],
            authorisation=authorisation,
        )
        if trained_until:
            record_training(
                session,
                "cli:users",
                user,
                course="Department ALPR training",
                completed_on=local_today() - timedelta(days=1),
                expires_on=trained_until.date(),
                authorisation=authorisation,
            )
        click.echo(f"created user {user.id} {user.email} roles={','.join(sorted(roles))}")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password_command(email: str, password: str) -> None:
    """Set a user's password from the server's shell (a forgotten one, a locked-out admin).

    Outside development the owner must replace it at the next sign-in; their sessions end now.
    """
    with command_unit_of_work(AccountError) as session:
        user = user_by_email(session, email)
        if user is None:
            raise click.ClickException(f"No user with email {email.strip().lower()}.")
        must_change = not current_app.config["DEVELOPMENT"]
        set_temporary_password(session, "cli:users", user, password, must_change=must_change)
        then = " (to be changed at the next sign-in)" if must_change else ""
        click.echo(f"password set for {user.email}{then}")
