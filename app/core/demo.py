"""`flask --app wsgi demo seed`: demo accounts for every role, then each domain's demo data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.auth.services import create_agency, create_user, record_training
from app.core.timeutil import local_today
from app.db import unit_of_work

demo_cli = AppGroup("demo", help="Demonstration data.")

DEMO_ACTOR = "cli:demo"

#: email, name, roles, trained: the demo cast, one per role. Passwords are `demo-<local part>-2026`.
DEMO_USERS: tuple[tuple[str, str, tuple[Role, ...], bool], ...] = (
    ("admin@demo.alpr", "Alex Admin", (Role.ADMIN,), True),
    ("chief@demo.alpr", "Dana Deputy-Chief", (Role.DEPUTY_CHIEF,), True),
    ("designee@demo.alpr", "Devon Designee", (Role.DESIGNEE,), True),
    ("operator@demo.alpr", "Olive Operator", (Role.OPERATOR,), True),
    ("untrained@demo.alpr", "Uma Untrained", (Role.OPERATOR,), False),
    ("records@demo.alpr", "Riley Records", (Role.RECORDS,), True),
    ("auditor@demo.alpr", "Avery Auditor", (Role.AUDITOR,), True),
    ("agency@demo.alpr", "Sam State-Patrol", (Role.AGENCY,), False),
)

#: Each domain adds its demo data here (called in order, inside the same unit of work).
DEMO_SEEDERS: list[Callable[[Session], list[str]]] = []


def demo_password(email: str) -> str:
    """Known demo passwords, documented in the README (demo data only)."""
    return f"demo-{email.split('@')[0]}-2026"


def seed_accounts(session: Session) -> list[str]:
    """Create the demo cast once; returns the lines to print (passwords shown once)."""
    lines: list[str] = []
    agency = None
    for email, name, roles, trained in DEMO_USERS:
        if session.scalars(select(User).where(User.email == email)).first():
            continue
        if Role.AGENCY in roles and agency is None:
            agency = create_agency(
                session, DEMO_ACTOR, name="Minnesota State Patrol", ori="MN0000000"
            )
        user = create_user(
            session,
            DEMO_ACTOR,
            email=email,
            name=name,
            password=demo_password(email),
            roles=roles,
            agency=agency if Role.AGENCY in roles else None,
        )
        if trained:
            today = local_today()
            record_training(
                session,
                DEMO_ACTOR,
                user,
                course="Department ALPR training (policy 425)",
                completed_on=today - timedelta(days=30),
                expires_on=today + timedelta(days=335),
            )
        lines.append(f"{email:24} {demo_password(email):28} {', '.join(r.value for r in roles)}")
    return lines


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
    import app.demo_seeders  # noqa: F401  (registers the domains' seeders)

    with unit_of_work() as session:
        account_lines = seed_accounts(session)
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
