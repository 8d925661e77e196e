"""The demo cast: one account per role, with published passwords (never in production)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.accounts import create_user
from app.auth.agencies import create_agency
from app.auth.authorisations import WrittenAuthorisation
from app.auth.models import Role, User
from app.auth.training import record_training
from app.core.timeutil import local_today

DEMO_ACTOR = "cli:demo"

#: email, name, roles, trained: the demo cast, one per role. Passwords are `demo-<local part>-2026`.
#: The Deputy Chief and the operator are authorised for confidential data (425.4(e)): they see
#: hotlist record numbers, the others see them withheld.
DEMO_USERS: tuple[tuple[str, str, tuple[Role, ...], bool], ...] = (
    ("admin@demo.alpr", "Alex Admin", (Role.ADMIN,), True),
    ("chief@demo.alpr", "Dana Deputy-Chief", (Role.DEPUTY_CHIEF, Role.CONFIDENTIAL_DATA), True),
    ("designee@demo.alpr", "Devon Designee", (Role.DESIGNEE,), True),
    ("operator@demo.alpr", "Olive Operator", (Role.OPERATOR, Role.CONFIDENTIAL_DATA), True),
    ("untrained@demo.alpr", "Uma Untrained", (Role.OPERATOR,), False),
    ("records@demo.alpr", "Riley Records", (Role.RECORDS,), True),
    ("auditor@demo.alpr", "Avery Auditor", (Role.AUDITOR,), True),
    ("agency@demo.alpr", "Sam State-Patrol", (Role.AGENCY,), False),
)


def demo_password(email: str) -> str:
    """Known demo passwords, documented in the README (demo data only)."""
    return f"demo-{email.split('@')[0]}-2026"


def demo_authorisation() -> WrittenAuthorisation:
    """The written authorisation the demo's roles and training name (425.3): none real."""
    return WrittenAuthorisation(
        "Dana Deputy-Chief", local_today(), "Demo data: no real authorisation"
    )


def seed_accounts(session: Session, *, password_must_change: bool) -> list[str]:
    """Create the demo cast once; returns the lines to print (passwords shown once).

    Outside development the published demo passwords must be replaced at first sign-in.
    """
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
            password_must_change=password_must_change,
            authorisation=demo_authorisation(),
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
                authorisation=demo_authorisation(),
            )
        lines.append(f"{email:24} {demo_password(email):28} {', '.join(r.value for r in roles)}")
    return lines
