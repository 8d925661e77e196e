"""Breach incidents (policy 425.6(d), Minn. Stat. § 13.055): report, investigate, notify, report.

Reporting creates the incident; every later step goes through :func:`take_step`, so it is
serialised on the incident's row, checked by :class:`BreachMachine` (who may take it, what it
needs) and audited in the caller's transaction. Nothing here commits.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import User
from app.breaches.models import (
    DATA_INVOLVED_MAX,
    DESCRIPTION_MAX,
    UNAUTHORISED_PERSON_MAX,
    BreachIncident,
    BreachStatus,
)
from app.breaches.workflow import (
    BreachMachine,  # noqa: F401  (declares the machine take_step uses)
)
from app.core.refusal import Refusal
from app.core.timeutil import display_zone, format_local
from app.db import utcnow
from app.workflow.history import StepEvent, step_history
from app.workflow.step import take_step

#: The audit actions that make up an incident's timeline, in the order they happen.
BREACH_STEP_ACTIONS = (
    AuditAction.BREACH_REPORTED,
    AuditAction.BREACH_INVESTIGATION_STARTED,
    AuditAction.BREACH_INDIVIDUALS_NOTIFIED,
    AuditAction.BREACH_REPORT_COMPLETED,
)


class BreachError(Refusal):
    """A clear reason a breach report was refused; `field` names the form field it concerns."""


def _text(value: str | None, field: str, label: str, limit: int, *, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise BreachError(f"{label} is required.", field=field)
        return None
    if len(text) > limit:
        raise BreachError(
            f"{label} is at most {limit:,} characters ({len(text):,} given).", field=field
        )
    return text


def report_breach(
    session: Session,
    actor: User | str | None,
    *,
    discovered_at: datetime,
    description: str,
    data_involved: str,
    unauthorised_person: str | None = None,
    submission_key: str | None = None,
) -> BreachIncident:
    """Report a discovered breach of the security of data; it starts in 'reported'.

    `discovered_at` is aware UTC and may not be in the future. `submission_key` is the report
    form's one-time key: the same form sent twice returns the incident the first made, with no
    second audit entry. Raises BreachError naming the field for a blank or over-long text.
    """
    if discovered_at.tzinfo is None:
        raise BreachError("The discovery time needs a time zone.", field="discovered_at")
    if discovered_at > utcnow() + timedelta(minutes=1):
        raise BreachError(
            f"The discovery time ({format_local(discovered_at)}) is in the future.",
            field="discovered_at",
        )
    text = {
        "description": _text(
            description, "description", "What happened", DESCRIPTION_MAX, required=True
        ),
        "data_involved": _text(
            data_involved, "data_involved", "The data involved", DATA_INVOLVED_MAX, required=True
        ),
        "unauthorised_person": _text(
            unauthorised_person,
            "unauthorised_person",
            "The unauthorised person",
            UNAUTHORISED_PERSON_MAX,
            required=False,
        ),
    }
    key = (submission_key or "").strip()[:64] or None
    if key is not None:
        earlier = session.scalars(
            select(BreachIncident).where(BreachIncident.submission_key == key)
        ).first()
        if earlier is not None:
            return earlier
    incident = BreachIncident(
        status=BreachStatus.REPORTED.value,
        discovered_at=discovered_at,
        reported_by_id=actor.id if isinstance(actor, User) else None,
        submission_key=key,
        **text,
    )
    session.add(incident)
    session.flush()
    record(
        session,
        actor,
        AuditAction.BREACH_REPORTED,
        incident,
        {"to": incident.status, "discovered_at": discovered_at.isoformat()},
    )
    return incident


def start_breach_investigation(
    session: Session, actor: User | str | None, incident: BreachIncident
) -> BreachIncident:
    """Reported → investigating: the Deputy Chief or designee takes up the investigation."""
    return take_step(
        session,
        actor,
        incident,
        "investigate",
        audit_action=AuditAction.BREACH_INVESTIGATION_STARTED,
        changes={"investigation_started_at": utcnow()},
    )


def record_breach_notification(
    session: Session,
    actor: User | str | None,
    incident: BreachIncident,
    *,
    findings: str | None,
    notified_on: date | None,
    notification_method: str | None,
    individuals_notified: int | None,
) -> BreachIncident:
    """Investigating → individuals notified: what was found, and who was told, when and how.

    Raises WorkflowError at the field of the first missing or implausible input (blank
    findings, a date in the future or before the discovery, an unknown method, a count < 1).
    """
    findings = (findings or "").strip()
    inputs: dict[str, Any] = {
        "findings": findings,
        "notified_on": notified_on,
        "notification_method": notification_method,
        "individuals_notified": individuals_notified,
    }
    return take_step(
        session,
        actor,
        incident,
        "notify",
        audit_action=AuditAction.BREACH_INDIVIDUALS_NOTIFIED,
        changes=inputs,
        details={
            "notified_on": notified_on.isoformat() if notified_on else None,
            "notification_method": notification_method,
            "individuals_notified": individuals_notified,
        },
        **inputs,
    )


def complete_breach_report(
    session: Session,
    actor: User | str | None,
    incident: BreachIncident,
    *,
    report_summary: str | None,
    report_completed_on: date | None,
) -> BreachIncident:
    """Individuals notified → report completed: the report on the facts and results (final).

    Raises WorkflowError at its field for a blank summary or a completion date in the future,
    before the discovery or before the notification.
    """
    report_summary = (report_summary or "").strip()
    inputs: dict[str, Any] = {
        "report_summary": report_summary,
        "report_completed_on": report_completed_on,
    }
    return take_step(
        session,
        actor,
        incident,
        "complete_report",
        audit_action=AuditAction.BREACH_REPORT_COMPLETED,
        changes=inputs,
        details={
            "report_completed_on": report_completed_on.isoformat() if report_completed_on else None
        },
        **inputs,
    )


def list_breaches(session: Session) -> list[BreachIncident]:
    """Every incident, newest discovery first."""
    return list(
        session.scalars(
            select(BreachIncident).order_by(
                BreachIncident.discovered_at.desc(), BreachIncident.id.desc()
            )
        )
    )


def list_for_period(session: Session, start: date, end: date) -> list[BreachIncident]:
    """Incidents discovered on local calendar days `start` through `end`, oldest first.

    For the biennial audit report (425.6(c)): the period is the department's calendar days.
    """
    zone = display_zone()
    low = datetime.combine(start, time.min, tzinfo=zone)
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return list(
        session.scalars(
            select(BreachIncident)
            .where(BreachIncident.discovered_at >= low, BreachIncident.discovered_at < high)
            .order_by(BreachIncident.discovered_at, BreachIncident.id)
        )
    )


BREACH_EVENT_LABELS = {
    AuditAction.BREACH_REPORTED.value: "Breach reported",
    AuditAction.BREACH_INVESTIGATION_STARTED.value: "Investigation started",
    AuditAction.BREACH_INDIVIDUALS_NOTIFIED.value: "Individuals notified",
    AuditAction.BREACH_REPORT_COMPLETED.value: "Report completed",
}


def breach_history(session: Session, incident: BreachIncident) -> list[StepEvent]:
    """The incident's steps from the audit trail itself, so the page shows what the trail holds."""
    return step_history(session, incident, BREACH_STEP_ACTIONS, BREACH_EVENT_LABELS)
