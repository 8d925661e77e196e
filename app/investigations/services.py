"""The case registry: active criminal investigations that searches, hotlists and holds cite.

An investigation being *active* is what lets data outlive 60 days (425.5), lets another hotlist
source be loaded (425.4.1(b)) and ties a search to a case (425.6(b)). Opening, closing and
reopening each append their audit entry in the caller's transaction; nothing here commits.
"""

from __future__ import annotations

from datetime import date

from blinker import Namespace
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import User
from app.core.dates import future_problem
from app.core.refusal import Refusal
from app.investigations.models import Investigation, InvestigationStatus
from app.investigations.workflow import (
    InvestigationMachine,  # noqa: F401  (declares the machine take_step uses)
)
from app.workflow.step import take_step

CASE_NUMBER_MAX = 64

#: Sent inside the closing transaction, after its audit entry, with `session` and `actor`. The
#: retention package releases the case's holds on it (425.5): this package sits below retention
#: and cannot call it, yet closing a case and ending what it kept must commit together.
investigation_closed = Namespace().signal("investigation-closed")


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
    """Close an active investigation with a stated reason; its holds are released.

    Released, not merely dormant: reopening the case does not bring back data the holds kept
    (it is due to the purge from the close on); a reopened case places holds anew.

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
    investigation_closed.send(investigation, session=session, actor=actor)
    return investigation


def reopen_investigation(
    session: Session, actor: User | str | None, investigation: Investigation, reason: str
) -> Investigation:
    """Reopen a closed investigation (Deputy Chief, designee or admin only, with a reason).

    The earlier closing date and reason stay on the audit trail; the row is cleared so that
    "active" never carries a closing date (the CHECK constraints and the holds rely on it).
    """
    reason = (reason or "").strip()
    previous = {
        "closed_on": investigation.closed_on.isoformat() if investigation.closed_on else None,
        "closing_reason": investigation.closing_reason,
    }
    take_step(
        session,
        actor,
        investigation,
        "reopen",
        audit_action=AuditAction.INVESTIGATION_REOPENED,
        changes={"closed_on": None, "closing_reason": None},
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
