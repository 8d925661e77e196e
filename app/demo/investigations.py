"""Demo investigations: one active case (searches and holds can cite it) and one closed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.core.timeutil import local_today
from app.demo.accounts import DEMO_ACTOR
from app.investigations.services import (
    close_investigation,
    investigation_by_case_number,
    open_investigation,
)

ACTIVE_CASE = "24-000811"
CLOSED_CASE = "24-000533"


def seed_investigations(session: Session) -> list[str]:
    """Open the demo cases through the services, so the audit trail shows them too."""
    if investigation_by_case_number(session, ACTIVE_CASE) is not None:
        return ["Demo investigations already present."]
    lead = session.scalars(select(User).where(User.email == "operator@demo.alpr")).first()
    today = local_today()
    open_investigation(
        session,
        DEMO_ACTOR,
        case_number=ACTIVE_CASE,
        title="Catalytic converter thefts, east side",
        opened_on=today - timedelta(days=12),
        lead=lead,
    )
    closed = open_investigation(
        session,
        DEMO_ACTOR,
        case_number=CLOSED_CASE,
        title="Hit and run, Main St",
        opened_on=today - timedelta(days=40),
        lead=lead,
    )
    close_investigation(session, DEMO_ACTOR, closed, "Suspect charged; case closed", today)
    return [
        f"Demo investigations: {ACTIVE_CASE} (active), {CLOSED_CASE} (closed, awaiting the "
        "Deputy Chief's disposition)."
    ]
