"""The case registry: active criminal investigations that searches, hotlists and holds cite.

An investigation being *active* is what lets data outlive 60 days (425.5), lets another hotlist
source be loaded (425.4.1(b)) and ties a search to a case (425.6(b)). Once closed, the Deputy
Chief or designee decide what happens to the data its holds keep: released to the 60-day rule,
or kept under a records-retention schedule category until an end date (425.5: "all other ALPR
data should be retained in accordance with the established records retention schedule").
Opening, closing, the disposition, its lapse and reopening each append their audit entry in the
caller's transaction; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from blinker import Namespace
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import User
from app.config import ScheduleCategory
from app.core.dates import future_problem
from app.core.refusal import Refusal
from app.core.timeutil import local_today
from app.investigations.models import Investigation, InvestigationStatus
from app.investigations.workflow import (
    InvestigationMachine,  # noqa: F401  (declares the machine take_step uses)
)
from app.workflow.step import take_step

CASE_NUMBER_MAX = 64

#: Sent inside the transaction that releases a closed case's held data to the 60-day rule (the
#: disposition, or the end of its schedule), after its audit entry, with `session`, `actor` and
#: `reason`. The retention package releases the case's holds on it (425.5): this package sits
#: below retention and cannot call it, yet the decision and the end of the holds must commit
#: together.
case_data_released = Namespace().signal("case-data-released")


class InvestigationError(Refusal):
    """A clear, user-facing reason an investigation action was refused.

    `field` names the form field the message belongs next to, when there is one.
    """


def normalise_case_number(case_number: str) -> str:
    """Case numbers compare without surrounding blanks or letter case, as staff type them."""
    return " ".join((case_number or "").split()).upper()


def investigation_by_case_number(session: Session, case_number: str) -> Investigation | None:
    """The registered investigation with this case number, active or closed."""
    wanted = normalise_case_number(case_number)
    if not wanted:
        return None
    return session.scalars(
        select(Investigation).where(func.upper(Investigation.case_number) == wanted)
    ).first()


def open_investigation(
    session: Session,
    actor: User | str | None,
    *,
    case_number: str,
    title: str,
    opened_on: date,
    lead: User | None = None,
) -> Investigation:
    """Register an active investigation; a case number is registered once, ever.

    Raises InvestigationError for a blank or duplicate case number, a blank title, or an
    opening date in the future (it starts the case's holds and hotlists, so it must be real).
    """
    number = normalise_case_number(case_number)
    title = (title or "").strip()
    if not number:
        raise InvestigationError("A case number is required.", field="case_number")
    if len(number) > CASE_NUMBER_MAX:
        raise InvestigationError(
            f"Case numbers are at most {CASE_NUMBER_MAX} characters.", field="case_number"
        )
    if not title:
        raise InvestigationError("A title is required.", field="title")
    if problem := future_problem(opened_on, "The opening date"):
        raise InvestigationError(problem, field="opened_on")
    existing = investigation_by_case_number(session, number)
    if existing is not None:
        raise InvestigationError(
            f"Case {existing.case_number} is already registered ({existing.status}).",
            field="case_number",
        )
    investigation = Investigation(
        case_number=number,
        title=title,
        status=InvestigationStatus.ACTIVE.value,
        opened_on=opened_on,
        lead_id=lead.id if lead is not None else None,
    )
    session.add(investigation)
    session.flush()
    record(
        session,
        actor,
        AuditAction.INVESTIGATION_OPENED,
        investigation,
        {
            "case_number": number,
            "title": title,
            "opened_on": opened_on.isoformat(),
            "lead_id": investigation.lead_id,
        },
    )
    return investigation


def close_investigation(
    session: Session,
    actor: User | str | None,
    investigation: Investigation,
    reason: str,
    closed_on: date,
) -> Investigation:
    """Close an active investigation with a stated reason; it then awaits its disposition.

    Its holds stay placed and keep their data until the Deputy Chief or designee decide what
    happens to it (:func:`release_case_data`, :func:`retain_case_data`): nothing a hold
    protects is destroyed before that decision. Only an active case holds new data, loads a
    hotlist or defers an ACP participant's destruction, so those end with the close.

    Raises InvestigationError when it is already closed, the reason is blank, or `closed_on`
    is before it was opened or in the future.
    """
    if closed_on < investigation.opened_on:
        raise InvestigationError(
            f"An investigation cannot close ({closed_on}) before it opened "
            f"({investigation.opened_on}).",
            field="closed_on",
        )
    problem = future_problem(closed_on, "The closing date")
    if problem:
        raise InvestigationError(problem, field="closed_on")
    reason = (reason or "").strip()
    take_step(
        session,
        actor,
        investigation,
        "close",
        audit_action=AuditAction.INVESTIGATION_CLOSED,
        changes={"closed_on": closed_on, "closing_reason": reason},
        details={
            "case_number": investigation.case_number,
            "reason": reason,
            "closed_on": closed_on.isoformat(),
        },
        reason=reason,
    )
    return investigation


def release_case_data(
    session: Session, actor: User | str | None, investigation: Investigation
) -> Investigation:
    """The disposition that releases a closed case's held data to the 60-day rule; final.

    The case's holds end in the same transaction (:data:`case_data_released`): the reads they
    kept that are past the retention period go at the next purge, the others when they reach
    it. Also ends a schedule early. Raises WorkflowError unless the case is closed (awaiting
    disposition or kept under the schedule) and the actor is the Deputy Chief or designee.
    """
    take_step(
        session,
        actor,
        investigation,
        "release_data",
        audit_action=AuditAction.INVESTIGATION_DATA_RELEASED,
        details={
            "case_number": investigation.case_number,
            "disposition": "released to the 60-day rule",
            "schedule_category": investigation.schedule_category,
            "retain_until": _iso(investigation.retain_until),
        },
    )
    case_data_released.send(
        investigation,
        session=session,
        actor=actor,
        reason=f"Investigation {investigation.case_number} closed: its data released",
    )
    return investigation


def schedule_category(schedule: Sequence[ScheduleCategory], code: str) -> ScheduleCategory:
    """The configured category `code`, or InvestigationError at the category field."""
    for category in schedule:
        if category.code == (code or "").strip():
            return category
    raise InvestigationError(
        "Choose one of the records-retention schedule's categories.", field="schedule_category"
    )


def retention_end(
    investigation: Investigation, category: ScheduleCategory, retain_until: date | None
) -> date:
    """The day keeping under `category` ends: as chosen, or the category's period by default.

    Raises InvestigationError (at the end date's field) for a day that is not after today,
    or that is later than the category's period allows from the close.
    """
    closed_on = investigation.closed_on or local_today()
    limit = category.ends(closed_on)
    end = retain_until or limit
    today = local_today()
    if end <= today:
        raise InvestigationError(
            f"The end date ({end.isoformat()}) must be after today ({today.isoformat()}); "
            "to keep nothing, release the data to the 60-day rule instead.",
            field="retain_until",
        )
    if end > limit:
        raise InvestigationError(
            f"{category.label} is kept {category.years} years from the close "
            f"({closed_on.isoformat()}): the end date may be {limit.isoformat()} at the latest.",
            field="retain_until",
        )
    return end


def retain_case_data(
    session: Session,
    actor: User | str | None,
    investigation: Investigation,
    *,
    schedule: Sequence[ScheduleCategory],
    category: str,
    retain_until: date | None = None,
) -> Investigation:
    """The disposition that keeps a closed case's held data under a schedule category.

    `schedule` is the configured records-retention schedule (``RECORDS_SCHEDULE``); the end
    date is `retain_until` when given, else the category's period from the close, and never
    past it (:func:`retention_end`). The holds stay placed and keep their data until then,
    when :func:`lapse_ended_schedules` releases it to the 60-day rule. Raises
    InvestigationError for an unknown category or a bad end date, WorkflowError unless the
    case awaits its disposition and the actor is the Deputy Chief or designee.
    """
    chosen = schedule_category(schedule, category)
    end = retention_end(investigation, chosen, retain_until)
    return take_step(
        session,
        actor,
        investigation,
        "retain",
        audit_action=AuditAction.INVESTIGATION_DATA_RETAINED,
        changes={"schedule_category": chosen.code, "retain_until": end},
        details={
            "case_number": investigation.case_number,
            "disposition": "kept under the records-retention schedule",
            "schedule_category": chosen.code,
            "category_label": chosen.label,
            "period_years": chosen.years,
            "retain_until": end.isoformat(),
        },
        schedule_category=chosen.code,
        retain_until=end,
    )


def lapse_ended_schedules(session: Session, actor: User | str, today: date) -> int:
    """Release to the 60-day rule the data of every case whose schedule ends by `today`.

    The purge takes this step before it destroys anything, with its own clock, so data kept
    under the schedule goes in the first run on or after the end date. Each lapse is the
    machine's ``lapse`` step with its audit entry, and the case's holds end with it
    (:data:`case_data_released`). Returns how many cases lapsed. Flushes, never commits.
    """
    ended = session.scalars(
        select(Investigation)
        .where(
            Investigation.status == InvestigationStatus.RETAINED.value,
            Investigation.retain_until <= today,
        )
        .order_by(Investigation.id)
        .with_for_update()
    ).all()
    for investigation in ended:
        take_step(
            session,
            actor,
            investigation,
            "lapse",
            audit_action=AuditAction.INVESTIGATION_RETENTION_LAPSED,
            details={
                "case_number": investigation.case_number,
                "schedule_category": investigation.schedule_category,
                "retain_until": _iso(investigation.retain_until),
            },
            today=today,
        )
        case_data_released.send(
            investigation,
            session=session,
            actor=actor,
            reason=(
                f"Investigation {investigation.case_number}: its records-retention schedule "
                f"ended on {_iso(investigation.retain_until)}"
            ),
        )
    return len(ended)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def reopen_investigation(
    session: Session, actor: User | str | None, investigation: Investigation, reason: str
) -> Investigation:
    """Reopen a closed investigation (Deputy Chief, designee or admin only, with a reason).

    Holds the case still has (awaiting disposition, or kept under the schedule) are in force
    again; holds its disposition released stay released, and data the purge destroyed since
    is gone. The earlier closing date, reason and schedule stay on the audit trail; the row is
    cleared so that "active" never carries them (the CHECK constraints and the holds rely on it).
    """
    reason = (reason or "").strip()
    previous = {
        "closed_on": _iso(investigation.closed_on),
        "closing_reason": investigation.closing_reason,
        "schedule_category": investigation.schedule_category,
        "retain_until": _iso(investigation.retain_until),
    }
    take_step(
        session,
        actor,
        investigation,
        "reopen",
        audit_action=AuditAction.INVESTIGATION_REOPENED,
        changes={
            "closed_on": None,
            "closing_reason": None,
            "schedule_category": None,
            "retain_until": None,
        },
        details={"case_number": investigation.case_number, "reason": reason, "previous": previous},
        reason=reason,
    )
    return investigation


def list_investigations(session: Session, status: str | None = None) -> list[Investigation]:
    """Active cases first, then newest opened; `status` narrows to one state."""
    stmt = select(Investigation)
    if status in {s.value for s in InvestigationStatus}:
        stmt = stmt.where(Investigation.status == status)
    return list(
        session.scalars(
            stmt.order_by(
                Investigation.status.asc(),
                Investigation.opened_on.desc(),
                Investigation.id.desc(),
            )
        )
    )
