"""Address Confidentiality Program requests (425.5(b)): plates only as keyed HMACs.

A participant's plates are never stored, logged or audited in clear: the request keeps
HMAC-SHA256 digests of the normalised plates under ``ACP_HMAC_KEY``. Ingest calls
:func:`screen_at_collection` for every batch so that a new read of a suppressed plate is
destroyed at collection (or, when an in-force hold covers it, stored with its destruction
deferred).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from flask import current_app
from sqlalchemy import delete, func, not_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import PendingEntry, record, record_many
from app.auth.models import User
from app.core.dates import after_receipt_problem, future_problem
from app.core.refusal import Refusal
from app.db import utcnow
from app.reads.bulk import on_postgresql, text_in
from app.reads.models import Read, ReadImage
from app.reads.plates import FieldError, normalise_plate
from app.retention.destruction import CAMERA_PLATE, delete_reads, held_clause, id_among
from app.retention.documents import IncomingDocument, store_document
from app.retention.holds import scopes_in_force
from app.retention.models import AcpDestroyedRead, AcpPlate, AcpRequest, AcpStatus
from app.retention.policy import ReadFacts, is_held
from app.retention.workflow import AcpMachine
from app.workflow.step import start_step, take_step

#: Statuses in which a request suppresses its plates: once the written request has been
#: received *and verified*, new data of the participant must not be kept (425.5(b)).
SUPPRESSING_STATUSES = (
    AcpStatus.VERIFIED.value,
    AcpStatus.EXISTING_DESTROYED.value,
    AcpStatus.SUPPRESSION_ACTIVE.value,
)

SCREEN_ACTOR = "system:acp-screen"
#: Reads deleted per statement when destroying a participant's existing data.
DESTROY_CHUNK = 5000


class AcpError(Refusal):
    """The ACP request cannot be entered, or a date is wrong; the message says why (never a plate).

    Refused workflow steps raise :class:`app.workflow.machine.WorkflowError` instead.
    """


def acp_steps(actor: object, request: AcpRequest) -> list[str]:
    """The steps `actor` may take on `request` now (its page shows exactly these)."""
    return AcpMachine.around(request).next_steps(actor)


class AcpVerdict(Enum):
    """What ingest must do with one arriving read."""

    KEEP = "keep"
    DESTROY = "destroy"  # do not store the read or its images; it is only counted
    DEFER = "defer"  # store it with ``acp_deferred_at`` set: a hold in force covers it


def plate_hmac(key: str, plate: str) -> str:
    """HMAC-SHA256 (hex) of a plate: lets us match plates without keeping them.

    `plate` is in the one spelling every entry point stores
    (:func:`app.reads.plates.normalise_plate`, O folded into 0), so a participant's plate
    typed with an O matches a read sent with a 0; over-matching an O/0 twin errs on the side
    of destruction. Callers normalise; ingest has already done so for each read.
    """
    return _keyed(key)(plate)


@functools.lru_cache(maxsize=4)
def _keyed(key: str) -> Callable[[str], str]:
    """The HMAC of one key, its key schedule computed once: ingest hashes every read."""
    base = hmac.new(key.encode("utf-8"), digestmod=hashlib.sha256)

    def digest(plate: str) -> str:
        mac = base.copy()
        mac.update(plate.encode("utf-8"))
        return mac.hexdigest()

    return digest


def hmac_key() -> str:
    """The configured ACP key (a stable per-installation secret; see app/config.py)."""
    return current_app.config["ACP_HMAC_KEY"]


def suppressed_hmacs(session: Session, candidates: set[str]) -> dict[str, int]:
    """Which of `candidates` an in-force request suppresses, mapped to one such request id.

    Runs for every ingest batch, so the candidates are bound as one array on PostgreSQL
    (:func:`app.reads.bulk.text_in`): a 500-placeholder ``IN`` costs more to parse than to run.
    """
    if not candidates:
        return {}
    rows = session.execute(
        select(AcpPlate.plate_hmac, AcpPlate.request_id)
        .join(AcpRequest, AcpRequest.id == AcpPlate.request_id)
        .where(
            AcpRequest.status.in_(SUPPRESSING_STATUSES),
            text_in(session, AcpPlate.plate_hmac, candidates),
        )
        .order_by(AcpPlate.request_id)
    )
    found: dict[str, int] = {}
    for digest, request_id in rows:
        found.setdefault(digest, request_id)
    return found


@dataclass
class Screening:
    """The ACP screen's verdict on each arriving read, with the request that decided it."""

    verdicts: list[AcpVerdict]
    requests: list[int | None]

    def count(self, session: Session, resent: Collection[int] = ()) -> PendingEntry | None:
        """Add the destroyed and deferred reads to their requests' counts; the audit entry.

        Positions in `resent` are resends of reads already counted (and already destroyed or
        stored): they count nowhere. Returns the one ACP_DESTROYED_AT_COLLECTION entry for the
        caller to append (counts only), or None when the screen touched nothing.
        """
        destroyed: Counter[int] = Counter()
        deferred: Counter[int] = Counter()
        for position, (verdict, request_id) in enumerate(
            zip(self.verdicts, self.requests, strict=True)
        ):
            if request_id is None or position in resent:
                continue
            if verdict is AcpVerdict.DESTROY:
                destroyed[request_id] += 1
            elif verdict is AcpVerdict.DEFER:
                deferred[request_id] += 1
        touched = sorted(destroyed.keys() | deferred.keys())
        if not touched:
            return None
        for request_id in touched:
            session.execute(
                update(AcpRequest)
                .where(AcpRequest.id == request_id)
                .values(
                    destroyed_at_collection=AcpRequest.destroyed_at_collection
                    + destroyed[request_id],
                    deferred=AcpRequest.deferred + deferred[request_id],
                )
            )
        return PendingEntry(
            SCREEN_ACTOR,
            AuditAction.ACP_DESTROYED_AT_COLLECTION,
            None,
            {
                "destroyed": sum(destroyed.values()),
                "deferred": sum(deferred.values()),
                "by_request": {
                    str(rid): {"destroyed": destroyed[rid], "deferred": deferred[rid]}
                    for rid in touched
                },
            },
        )


def decide_at_collection(
    session: Session, facts: Sequence[ReadFacts], *, key: str | None = None
) -> Screening:
    """Decide, per arriving read, whether an ACP request forbids storing it (425.5(b)).

    One query per batch finds the suppressed HMACs among the batch's plates; only when some
    match are the in-force holds loaded (a DEFER keeps a read that an active matter holds).
    Changes nothing: :meth:`Screening.count` counts once the caller knows which reads are
    resends. Plates never leave this function.
    """
    digest_of = _keyed(key or hmac_key())
    digests = [digest_of(fact.plate) if fact.plate else None for fact in facts]
    suppressed = suppressed_hmacs(session, {d for d in digests if d})
    if not suppressed:
        return Screening([AcpVerdict.KEEP] * len(facts), [None] * len(facts))
    holds = scopes_in_force(session)
    verdicts: list[AcpVerdict] = []
    requests: list[int | None] = []
    for fact, digest in zip(facts, digests, strict=True):
        request_id = suppressed.get(digest) if digest else None
        requests.append(request_id)
        if request_id is None:
            verdicts.append(AcpVerdict.KEEP)
        elif is_held(fact, holds):
            verdicts.append(AcpVerdict.DEFER)
        else:
            # is_destroyable(..., acp_suppressed=True) for an unheld read: destroyable at any age.
            verdicts.append(AcpVerdict.DESTROY)
    return Screening(verdicts, requests)


def screen_at_collection(
    session: Session, facts: Sequence[ReadFacts], *, key: str | None = None
) -> list[AcpVerdict]:
    """Decide and count at once, for reads that cannot be resends (a plate OCR just gave).

    Counts go to each request and to ONE audit entry. Flushes, never commits.
    """
    screening = decide_at_collection(session, facts, key=key)
    entry = screening.count(session)
    if entry is not None:
        record_many(session, [entry])
    return screening.verdicts


def known_destroyed(session: Session, identities: Sequence[str]) -> set[str]:
    """Which of these reads (by :func:`read_identity`) were destroyed at collection before."""
    if not identities:
        return set()
    digest_of = _keyed(hmac_key())
    by_digest = {digest_of(identity): identity for identity in identities}
    found = session.scalars(
        select(AcpDestroyedRead.key_hmac).where(
            text_in(session, AcpDestroyedRead.key_hmac, by_digest)
        )
    )
    return {by_digest[digest] for digest in found}


def remember_destroyed(session: Session, destroyed: Iterable[tuple[str, datetime]]) -> None:
    """Keep a keyed digest of each read destroyed at collection, so its resend is known.

    `destroyed` holds (:func:`read_identity`, captured at) pairs; no plate is kept in clear.
    """
    digest_of = _keyed(hmac_key())
    rows = {digest_of(identity): captured_at for identity, captured_at in destroyed}
    if rows:
        insert = postgresql.insert if on_postgresql(session) else sqlite.insert
        session.execute(
            insert(AcpDestroyedRead)
            .values([{"key_hmac": k, "captured_at": at} for k, at in sorted(rows.items())])
            .on_conflict_do_nothing(index_elements=["key_hmac"])
        )


def read_sender(device_id: int | None, agency_id: int | None) -> str:
    """Who sent a read, as its identity names it: a device, else the agency that shared it."""
    return f"device:{device_id}" if device_id is not None else f"agency:{agency_id}"


def read_identity(sender: str, client_read_id: str | None, plate: str, at: datetime) -> str:
    """What makes an arriving read the same read as an earlier one (as ingest dedupes).

    `plate` stands in when there is no client id; a read sent as pictures only names its
    picture there instead.
    """
    return f"{sender}|{'c:' + client_read_id if client_read_id else 'p:' + plate}|{at.isoformat()}"


def picture_read_identity(
    sender: str, client_read_id: str | None, digests: Collection[str], at: datetime
) -> str:
    """An image-only read's identity: its pictures stand in for the plate OCR reads later."""
    return read_identity(sender, client_read_id, "picture:" + min(digests), at)


def remember_stored_destroyed(session: Session, ids: Sequence[int]) -> None:
    """Keep the digests of a participant's stored reads that are about to be destroyed.

    A camera may resend a read after its destruction; like one destroyed at collection, the
    resend is then a duplicate, not counted again in the log of use or on the request. A read
    whose plate came from OCR was sent as pictures, so its pictures identify it, as at upload.
    """
    if not ids:
        return
    dialect = session.get_bind().dialect.name
    first_picture = dict(
        session.execute(
            select(ReadImage.read_id, func.min(ReadImage.sha256))
            .where(id_among(ReadImage.read_id, list(ids), dialect))
            .group_by(ReadImage.read_id)
        ).all()
    )
    reads = session.execute(
        select(
            Read.id,
            Read.device_id,
            Read.source_agency_id,
            Read.client_read_id,
            Read.plate,
            Read.plate_status,
            Read.captured_at,
        ).where(id_among(Read.id, list(ids), dialect))
    ).all()
    identities = []
    for read_id, device_id, agency_id, client_read_id, plate, status, at in reads:
        sender = read_sender(device_id, agency_id)
        picture = first_picture.get(read_id)
        if status != CAMERA_PLATE and picture is not None:
            identity = picture_read_identity(sender, client_read_id, [picture], at)
        else:
            identity = read_identity(sender, client_read_id, plate or "", at)
        identities.append((identity, at))
    remember_destroyed(session, identities)


def forget_destroyed_before(session: Session, cutoff: datetime) -> int:
    """Drop the digests of reads past retention: their resend is refused anyway."""
    return session.execute(
        delete(AcpDestroyedRead).where(AcpDestroyedRead.captured_at < cutoff)
    ).rowcount


def receive_acp_request(
    session: Session,
    actor: User | str,
    *,
    participant_number: str,
    plates: Iterable[str],
    received_on: date,
    document: IncomingDocument | None = None,
) -> AcpRequest:
    """Enter a participant's written request; plates are kept only as HMACs. Audited.

    Raises AcpError (nothing added, the scan not written) without a participant number, with a
    received date in the future, or without a valid plate. Error messages name the plate's
    position, never the plate. The scan is written only after validation; should the
    transaction fail, the caller takes it back
    (:func:`app.retention.documents.remove_unreferenced_document`).
    """
    participant_number = (participant_number or "").strip()
    if not participant_number:
        raise AcpError("Give the participant's ACP participant number.", field="participant_number")
    if problem := future_problem(received_on, "The received date"):
        raise AcpError(problem, field="received_on")
    key = hmac_key()
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
        entered_by_id=actor.id if isinstance(actor, User) else None,
        plates=[AcpPlate(plate_hmac=d) for d in sorted(digests)],
    )
    session.add(request)
    session.flush()
    record(
        session,
        actor,
        AuditAction.ACP_RECEIVED,
        request,
        {"plates": len(digests), "received_on": received_on.isoformat()},
    )
    return request


def verify_acp_request(session: Session, actor: User | str, request: AcpRequest) -> AcpRequest:
    """The request is verified (received → verified): from now on its plates are suppressed."""
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
    are counted as deferred (425.5(b)); the purge destroys them once no hold keeps them. Counts
    go on the request and in one ACP_EXISTING_DESTROYED entry. Flushes, never commits: the job
    commits, then removes the image files (:func:`app.retention.purge.finish_tombstones`).
    """
    step = start_step(session, actor, request, "record_existing_destroyed")
    plates = matching_plates(session, {p.plate_hmac for p in request.plates}, key or hmac_key())
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
