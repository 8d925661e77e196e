"""An ACP participant's written request (425.5(b)), from its receipt to its end.

Received, verified, existing data destroyed, suppression active, ended (or declined): each step
validates, moves the request and appends its audit entry. The plates are suppressed from the
entry of the written request (:mod:`.suppression`), whatever its verification, until it ends
or is declined.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from blinker import Namespace
from sqlalchemy import not_, select, update
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import User
from app.core.dates import after_receipt_problem, future_problem
from app.core.refusal import Refusal
from app.db import utcnow
from app.reads.models import Read
from app.reads.plates import FieldError, normalise_plate
from app.retention.acp.digests import hmac_key, plate_hmac, remember_stored_destroyed
from app.retention.acp.suppression import (
    end_suppression_of_existing_reads,
    suppress_existing_reads,
)
from app.retention.destruction import delete_reads, held_clause
from app.retention.documents import IncomingDocument, store_document, written_request_reference
from app.retention.holds import scopes_in_force
from app.retention.models import AcpPlate, AcpRequest
from app.retention.workflow import AcpMachine
from app.workflow.step import start_step, take_step

#: Reads deleted per statement when destroying a participant's existing data.
DESTROY_CHUNK = 5000

#: Sent inside the transaction that enters a participant's written request, after its audit
#: entry, with `session` and `actor`. Searches sit above retention: on it, the searches made
#: before the request stop naming the participant's plates
#: (:func:`app.alpr.search.protect_earlier_searches`), in the same transaction.
acp_request_received = Namespace().signal("acp-request-received")


class AcpError(Refusal):
    """The ACP request cannot be entered, or a date is wrong; the message says why (never a plate).

    Refused workflow steps raise :class:`app.workflow.machine.WorkflowError` instead.
    """


def acp_steps(actor: object, request: AcpRequest) -> list[str]:
    """The steps `actor` may take on `request` now (its page shows exactly these)."""
    return AcpMachine.around(request).next_steps(actor)


def receive_acp_request(
    session: Session,
    actor: User | str,
    *,
    participant_number: str,
    plates: Iterable[str],
    received_on: date,
    document: IncomingDocument | None = None,
    paper_original: str | None = None,
) -> AcpRequest:
    """Enter a participant's written request; plates are kept only as HMACs. Audited.

    Suppression starts now: the reads of the plates already collected are put out of use
    (they are destroyed once the request is verified), new ones are destroyed at collection,
    and the searches made before stop naming the plates (:data:`acp_request_received`). The
    written request is the `document` (its scan) or the reference of its `paper_original` on
    file, or both.

    Raises AcpError (nothing added, the scan not written) without a participant number, with a
    received date in the future, without a valid plate, or without the written request.
    Error messages name the plate's position, never the plate. The scan is written only after
    validation; should the transaction fail, the caller takes it back
    (:func:`app.retention.documents.remove_unreferenced_document`).
    """
    participant_number = (participant_number or "").strip()
    if not participant_number:
        raise AcpError("Give the participant's ACP participant number.", field="participant_number")
    if problem := future_problem(received_on, "The received date"):
        raise AcpError(problem, field="received_on")
    try:
        reference = written_request_reference(document, paper_original)
    except Refusal as exc:
        raise AcpError(str(exc), field=exc.field) from None
    key = hmac_key(session)
    digests: set[str] = set()
    for position, raw in enumerate((p for p in plates if str(p).strip()), start=1):
        try:
            digests.add(plate_hmac(key, normalise_plate(str(raw))))
        except FieldError as exc:
            raise AcpError(f"Plate {position}: {exc.message}.", field="plates") from None
    if not digests:
        raise AcpError("List at least one plate of the participant.", field="plates")
    stored = store_document(session, document) if document is not None else None
    request = AcpRequest(
        participant_number=participant_number,
        received_on=received_on,
        document_sha256=stored.sha256 if stored is not None else None,
        paper_original=reference,
        entered_by_id=actor.id if isinstance(actor, User) else None,
        plates=[AcpPlate(plate_hmac=d) for d in sorted(digests)],
    )
    session.add(request)
    session.flush()
    out_of_use = suppress_existing_reads(session, request, matching_plates(session, digests, key))
    record(
        session,
        actor,
        AuditAction.ACP_RECEIVED,
        request,
        {
            "plates": len(digests),
            "received_on": received_on.isoformat(),
            "document_sha256": request.document_sha256,
            "paper_original": reference,
            "reads_out_of_use": out_of_use,
        },
    )
    acp_request_received.send(request, session=session, actor=actor)
    return request


def verify_acp_request(session: Session, actor: User | str, request: AcpRequest) -> AcpRequest:
    """The request is verified (received → verified): its existing data may now be destroyed."""
    return take_step(session, actor, request, "verify", audit_action=AuditAction.ACP_VERIFIED)


@dataclass(frozen=True)
class AcpDestruction:
    """Counts of one destruction of existing data, and the image files to remove after commit."""

    destroyed: int
    images: int
    deferred: int
    orphans: frozenset[str]


def matching_plates(session: Session, digests: set[str], key: str) -> list[str]:
    """The stored plates whose HMAC is among `digests`.

    A keyed HMAC cannot be reversed or computed by the database portably (SQLite has no HMAC;
    PostgreSQL needs pgcrypto), so the distinct stored plates are HMAC'd here. That is one
    index-only pass and roughly a microsecond per distinct plate, and it runs once per request,
    in a job. The matches live only in memory and are used to select rows.
    """
    stored = session.scalars(select(Read.plate).where(Read.plate.is_not(None)).distinct())
    return [plate for plate in stored if plate_hmac(key, plate) in digests]


def destroy_existing_acp_data(
    session: Session, actor: User | str, request: AcpRequest, *, key: str | None = None
) -> AcpDestruction:
    """Destroy the participant's data already collected (verified → existing_destroyed).

    Reads an in-force hold covers are not destroyed: their ``acp_deferred_at`` is set and they
    are counted as deferred (425.5(b)); the purge destroys them once no hold keeps them, and
    until then they stay out of use. Counts go on the request and in one ACP_EXISTING_DESTROYED
    entry. Flushes, never commits: the job commits, then removes the image files
    (:func:`app.retention.purge.finish_tombstones`).
    """
    step = start_step(session, actor, request, "record_existing_destroyed")
    plates = matching_plates(
        session, {p.plate_hmac for p in request.plates}, key or hmac_key(session)
    )
    destroyed = images = deferred = 0
    orphans: set[str] = set()
    if plates:
        held = held_clause(scopes_in_force(session))
        ids = list(session.scalars(select(Read.id).where(Read.plate.in_(plates), not_(held))))
        for start in range(0, len(ids), DESTROY_CHUNK):
            chunk = ids[start : start + DESTROY_CHUNK]
            remember_stored_destroyed(session, chunk)
            deleted = delete_reads(session, chunk, actor)
            destroyed += deleted.reads
            images += deleted.images
            orphans |= deleted.orphans
        deferred = session.execute(
            update(Read)
            .where(Read.plate.in_(plates), held, Read.acp_deferred_at.is_(None))
            .values(acp_deferred_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
    end_suppression_of_existing_reads(session, request)  # destroyed, or deferred: out of use
    step.record(
        AuditAction.ACP_EXISTING_DESTROYED,
        changes={
            "existing_destroyed": request.existing_destroyed + destroyed,
            "deferred": request.deferred + deferred,
        },
        details={"destroyed": destroyed, "images": images, "deferred": deferred},
    )
    return AcpDestruction(destroyed, images, deferred, frozenset(orphans))


def activate_acp_suppression(
    session: Session, actor: User | str, request: AcpRequest
) -> AcpRequest:
    """Existing data is gone: record that suppression at collection is active. Audited."""
    return take_step(
        session,
        actor,
        request,
        "activate_suppression",
        audit_action=AuditAction.ACP_SUPPRESSION_ACTIVATED,
    )


def end_acp_request(
    session: Session, actor: User | str, request: AcpRequest, *, ended_on: date | None
) -> AcpRequest:
    """The participant left the program: new reads of the plates are kept again. Audited.

    Raises AcpError with a date before the request was received or in the future, and
    WorkflowError without the date (at ``ended_on``), for a role that may not, or from the wrong
    state; nothing changes then.
    """
    if ended_on is not None and (
        problem := after_receipt_problem(ended_on, "The date left", request.received_on)
    ):
        raise AcpError(problem, field="ended_on")
    return take_step(
        session,
        actor,
        request,
        "end",
        audit_action=AuditAction.ACP_ENDED,
        changes={"ended_on": ended_on},
        details={"ended_on": ended_on.isoformat() if ended_on else None},
        ended_on=ended_on,
    )


def decline_acp_request(
    session: Session, actor: User | str, request: AcpRequest, *, reason: str
) -> AcpRequest:
    """The request could not be verified, or the participant withdrew it (→ declined, final).

    Only the Deputy Chief or designee, only before the existing data is destroyed, and only
    with a stated reason; otherwise WorkflowError (at ``reason`` when it is missing) and nothing
    changes. Suppression ends: new reads of the plates are kept again, and the reads put out of
    use at the entry are back in use. What suppression did meanwhile stands: reads destroyed
    at collection are gone, and ACP-deferred reads still go once no hold keeps them. Audited
    ACP_DECLINED in the caller's transaction.
    """
    reason = (reason or "").strip()
    step = start_step(session, actor, request, "decline", reason=reason)
    request.decline_reason = reason  # before the delete below flushes the declined status
    end_suppression_of_existing_reads(session, request)
    return step.record(AuditAction.ACP_DECLINED, details={"reason": reason})
