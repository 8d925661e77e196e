"""Demo breach incidents: one being investigated and one taken to its completed report.

Steps are stamped when the seeder takes them, so the typed dates are today's: a notice dated
weeks ago beside an investigation started today would read as nonsense.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.breaches.models import BreachIncident
from app.breaches.services import (
    complete_breach_report,
    record_breach_notification,
    report_breach,
    start_breach_investigation,
)
from app.core.timeutil import local_today
from app.db import utcnow


def seed_breaches(session: Session) -> list[str]:
    """Report and work the demo incidents through the services, as the demo people would."""
    if session.scalars(select(BreachIncident.id)).first() is not None:
        return ["Demo breach incidents already present."]
    people = {u.email: u for u in session.scalars(select(User))}
    operator, chief = people.get("operator@demo.alpr"), people.get("chief@demo.alpr")
    if operator is None or chief is None:
        return []
    open_one = report_breach(
        session,
        operator,
        discovered_at=utcnow() - timedelta(days=2, hours=3),
        description=(
            "A search export (CSV) was attached to an e-mail sent to a wrong outside address."
        ),
        data_involved="ALPR reads of 38 plates, 3 days, east-side mobile unit",
        unauthorised_person="Recipient at a private company (address known)",
    )
    start_breach_investigation(session, chief, open_one)
    done = report_breach(
        session,
        operator,
        discovered_at=utcnow() - timedelta(days=1, hours=4),
        description="A printed hit list was left at the front counter and photographed.",
        data_involved="Hit alerts of one shift (12 plates)",
    )
    start_breach_investigation(session, chief, done)
    record_breach_notification(
        session,
        chief,
        done,
        findings="The visitor photographed the list; 12 registered owners' plates were on it.",
        notified_on=local_today(),
        notification_method="written",
        individuals_notified=12,
    )
    complete_breach_report(
        session,
        chief,
        done,
        report_summary="Printed lists no longer leave the records room; staff retrained.",
        report_completed_on=local_today(),
    )
    return [f"Demo breach incidents: {open_one.id} (investigating), {done.id} (report completed)."]
