"""Exculpatory requests (425.5(a)): a subject's written request keeps data until resolution.

The request's scope is stored as its Hold at receipt, so a bad scope is refused before anything
is saved. 425.5(a) keeps the data "if a written request is made", so that hold is in force from
receipt: while the request is received or active (see
:func:`app.retention.holds.hold_in_force_clause`), the purge cannot destroy the data while the
request waits to be activated. The hold stops when the Deputy Chief or designee release the
request (the criminal matter is resolved) or decline it (the request does not qualify, e.g. the
requester is not the subject of a criminal investigation).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import User
from app.core.dates import after_receipt_problem, future_problem
from app.core.refusal import Refusal
from app.db import utcnow
from app.investigations.models import Investigation
from app.investigations.sections import count_and_newest
from app.retention.documents import IncomingDocument, store_document, written_request_reference
from app.retention.holds import HoldError, clean_scope, new_hold, scope_summary
from app.retention.models import ExculpatoryRequest, HoldKind, HoldStatus
from app.retention.workflow import ExculpatoryMachine
from app.workflow.step import start_step, take_step


class ExculpatoryError(Refusal):
    """The request cannot be entered; the message says why, `field` where.

    Refused workflow steps raise :class:`app.workflow.machine.WorkflowError` instead.
    """


def exculpatory_steps(actor: object, request: ExculpatoryRequest) -> list[str]:
    """The steps `actor` may take on `request` now (its page shows exactly these)."""
    return ExculpatoryMachine.around(request).next_steps(actor)


def receive_exculpatory_request(
    session: Session,
    actor: User | str,
    *,
    requester_name: str,
    case_file_number: str,
    received_on: date,
    window_start: datetime | None,
    window_end: datetime | None,
    plates: Iterable[str] = (),
    device_ids: Iterable[int] = (),
    document: IncomingDocument | None = None,
    paper_original: str | None = None,
) -> ExculpatoryRequest:
    """Enter a subject's written request with its scope; audited EXCULPATORY_RECEIVED.

    The written request is the `document` (its scan) or the reference of its `paper_original`
    on file, or both. Raises ExculpatoryError (nothing added, the scan not written) for a
    missing requester or case/court file number, a received date in the future, an empty or
    unbounded scope, or without the written request. The scan is written only after
    validation; should the transaction fail, the caller takes it back
    (:func:`app.retention.documents.remove_unreferenced_document`).
    """
    requester_name = (requester_name or "").strip()
    case_file_number = (case_file_number or "").strip()
    if not requester_name:
        raise ExculpatoryError(
            "Name the person who made the written request.", field="requester_name"
        )
    if not case_file_number:
        raise ExculpatoryError(
            "Give the case or court file number the request concerns.", field="case_file_number"
        )
    if problem := future_problem(received_on, "The received date"):
        raise ExculpatoryError(problem, field="received_on")
    try:
        reference = written_request_reference(document, paper_original)
    except Refusal as exc:
        raise ExculpatoryError(str(exc), field=exc.field) from None
    try:
        scope = clean_scope(
            session, window_start, window_end, plates, device_ids, label="an exculpatory request"
        )
    except HoldError as exc:
        raise ExculpatoryError(str(exc), field=exc.field) from None
    stored = store_document(session, document) if document is not None else None
    request = ExculpatoryRequest(
        requester_name=requester_name,
        case_file_number=case_file_number,
        received_on=received_on,
        document_sha256=stored.sha256 if stored is not None else None,
        paper_original=reference,
        entered_by_id=actor.id if isinstance(actor, User) else None,
    )
    session.add(request)
    session.flush()
    hold = new_hold(HoldKind.EXCULPATORY, scope, f"Exculpatory request {request.id}", actor)
    hold.exculpatory_request_id = request.id
    session.add(hold)
    session.flush()
    record(
        session,
        actor,
        AuditAction.EXCULPATORY_RECEIVED,
        request,
        {
            "case_file_number": case_file_number,
            "received_on": received_on.isoformat(),
            "document_sha256": request.document_sha256,
            "paper_original": reference,
            **scope_summary(hold),
        },
    )
    return request


def activate_exculpatory_hold(
    session: Session, actor: User | str, request: ExculpatoryRequest
) -> ExculpatoryRequest:
    """Accept the request (received → active); audited EXCULPATORY_ACTIVATED.

    Its hold has been in force since receipt; it stays so until the request is released.
    Raises WorkflowError (nothing changes) from another state or for a role that may not.
    """
    return take_step(
        session, actor, request, "activate", audit_action=AuditAction.EXCULPATORY_ACTIVATED
    )


def decline_exculpatory_request(
    session: Session, actor: User | str, request: ExculpatoryRequest, *, reason: str
) -> ExculpatoryRequest:
    """The request does not qualify under 425.5(a): record why and end its hold (→ declined).

    Only the Deputy Chief or designee may decline, only a received request, and only with a
    stated reason; otherwise WorkflowError (at the ``reason`` field when it is missing), and
    nothing changes. Declined is final: the data in scope falls back under the 60-day rule and
    goes at the next purge if it is older. Audited EXCULPATORY_DECLINED in the caller's
    transaction.
    """
    reason = (reason or "").strip()
    step = start_step(session, actor, request, "decline", reason=reason)
    request.decline_reason = reason  # before loading the holds flushes the declined status
    _end_holds(request)
    return step.record(AuditAction.EXCULPATORY_DECLINED, details={"reason": reason})


def _end_holds(request: ExculpatoryRequest) -> None:
    """Mark the request's holds released now (the request's new status already ends them).

    Not a hold step: :class:`app.retention.workflow.HoldMachine` refuses to release an
    exculpatory hold on its own; the request's step, audited on the request, ends it.
    """
    now = utcnow()
    for hold in request.holds:
        if hold.status == HoldStatus.PLACED.value:
            hold.status = HoldStatus.RELEASED.value
            hold.released_at = now


def release_exculpatory_hold(
    session: Session,
    actor: User | str,
    request: ExculpatoryRequest,
    *,
    disposition: str,
    resolved_on: date | None,
) -> ExculpatoryRequest:
    """The criminal matter is resolved: record how and when, and end the hold (active → released).

    Only the Deputy Chief or designee release an exculpatory hold (425.5). Raises
    ExculpatoryError with a date before the request was received or in the future, and
    WorkflowError without the disposition or the date (at its field), for a role that may not,
    or from the wrong state; nothing changes then. Once released, the data falls back under the
    60-day rule and goes at the next purge if it is older.
    """
    disposition = (disposition or "").strip()
    if resolved_on is not None and (
        problem := after_receipt_problem(resolved_on, "The resolution date", request.received_on)
    ):
        raise ExculpatoryError(problem, field="resolved_on")
    step = start_step(
        session, actor, request, "release", disposition=disposition, resolved_on=resolved_on
    )
    request.disposition = disposition  # before loading the holds flushes the released status
    request.resolved_on = resolved_on
    _end_holds(request)
    return step.record(
        AuditAction.EXCULPATORY_RELEASED,
        details={
            "disposition": disposition,
            "resolved_on": resolved_on.isoformat() if resolved_on else None,
        },
    )


def exculpatory_requests_of_case(
    session: Session, investigation: Investigation
) -> tuple[int, list[ExculpatoryRequest]]:
    """The exculpatory requests that name the case's number as theirs, newest first."""
    stmt = select(ExculpatoryRequest).where(
        ExculpatoryRequest.case_file_number == investigation.case_number
    )
    return count_and_newest(session, stmt, ExculpatoryRequest.id.desc())
