"""Reads that arrive as pictures: receiving them, OCR's verdict, an operator's review, viewing.

Every function takes the session and the actor and flushes; the view, job or command commits.
The plate steps go through :func:`app.workflow.step.start_step` (the machine is
:class:`app.alpr.workflow.PlateMachine`); each appends its one audit entry here.
Plates never go into an audit header or a JobRun row (those outlive the 60-day retention):
only into audit details, which the purge can redact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.alpr.hotlists import find_matches, log_hits, record_hits, sources_in_force
from app.alpr.ingest.batch import ingest_reads
from app.alpr.ingest.periods import (
    count_in_periods,
    device_actor,
    lock_device,
    note_device_use,
    place_in_periods,
)
from app.alpr.ingest.validation import ReadIn
from app.alpr.workflow import PlateMachine  # noqa: F401  (declares the machine start_step uses)
from app.audit.actions import AuditAction
from app.audit.services import PendingEntry, record, record_many
from app.db import utcnow
from app.reads.image_store import ImageStoreUnavailable
from app.reads.images import ImageInfo, remove_unreferenced_image, write_image
from app.reads.models import ActiveUsePeriod, Device, ImageKind, PlateStatus, Read, ReadImage
from app.reads.plates import FieldError, normalise_plate
from app.retention.acp.digests import (
    known_destroyed,
    picture_read_identity,
    read_sender,
    remember_stored_destroyed,
)
from app.retention.acp.screening import AcpVerdict, screen_at_collection
from app.retention.acp.suppression import visible_reads
from app.retention.destruction import Deleted, delete_reads, queue_tombstones
from app.retention.policy import ReadFacts
from app.workflow.step import start_step

if TYPE_CHECKING:
    from app.alpr.ocr.pipeline import OcrResult
    from app.auth.models import User

#: The picture OCR tries first: a plate crop reads best, a wide overview worst.
OCR_IMAGE_ORDER = (ImageKind.PLATE, ImageKind.VEHICLE, ImageKind.OVERVIEW)
#: How many reads the review queue shows at once, oldest first.
REVIEW_PAGE_SIZE = 50
#: The audit label of the OCR job.
OCR_ACTOR = "system:ocr"


@dataclass(frozen=True)
class IncomingImage:
    """A picture already checked by :func:`app.reads.images.clean_image`, not yet stored."""

    kind: ImageKind
    data: bytes
    info: ImageInfo


@dataclass(frozen=True)
class ImageReadOutcome:
    """What a device's upload did: ``stored``, ``duplicate`` or ``destroyed_acp`` (no read)."""

    read: Read | None
    outcome: str


def _existing_read(
    session: Session, device: Device, read: ReadIn, images: list[IncomingImage]
) -> Read | None:
    """The read an earlier upload stored, matched as the JSON ingest matches resends.

    A resend repeats the capture time and the client id, or else the plate; an image-only
    read has no plate yet, so the same pictures at the same instant make it the same read.
    """
    stmt = select(Read).where(Read.device_id == device.id, Read.captured_at == read.captured_at)
    if read.client_read_id is not None:
        stmt = stmt.where(Read.client_read_id == read.client_read_id)
    elif read.plate:
        stmt = stmt.where(Read.client_read_id.is_(None), Read.plate == read.plate)
    else:
        digests = [image.info.sha256 for image in images]
        stmt = stmt.where(
            Read.client_read_id.is_(None), Read.images.any(ReadImage.sha256.in_(digests))
        )
    return session.scalars(stmt).first()


def _store_read(
    session: Session, device: Device, read: ReadIn, images: list[IncomingImage], gap_minutes: int
) -> ImageReadOutcome:
    """A plate the camera read goes through the JSON ingest itself: ACP screen, periods, hits.

    Its pictures are stored with it, and audited in the batch's one append (``attach``).
    """
    result = ingest_reads(
        session,
        device_actor(device),
        [read],
        device=device,
        gap_minutes=gap_minutes,
        attach=lambda stored: [
            add_read_images(session, device, (read_id, read.captured_at), images)
            for _, read_id in stored
        ],
    )
    outcome = result.outcomes[0]["outcome"]
    if outcome == "stored":
        return ImageReadOutcome(session.get(Read, result.outcomes[0]["read_id"]), outcome)
    if outcome == "duplicate":
        return ImageReadOutcome(_existing_read(session, device, read, images), outcome)
    return ImageReadOutcome(None, outcome)


def receive_image_read(
    session: Session,
    device: Device,
    read: ReadIn,
    images: list[IncomingImage],
    *,
    gap_minutes: int,
) -> ImageReadOutcome:
    """Store a device's read with its pictures (425.4.1(a)); a resend returns the first read.

    With a plate (``read.plate`` not empty) the read is ingested exactly as a JSON read is. Without
    one it waits at ``pending_ocr`` for the OCR job, which the caller enqueues after committing;
    the ACP screen and hotlist matching then happen when its plate is known. An ACP-suppressed
    plate (``destroyed_acp``) stores neither the read nor its pictures. The read row is flushed
    before any file is written, so the database write lock (SQLite) or the per-digest lock
    (PostgreSQL) covers the files until the commit; if the transaction fails, the caller takes
    them back with :func:`app.reads.images.remove_unreferenced_image`.
    """
    if read.plate:
        return _store_read(session, device, read, images, gap_minutes)
    # Locked first, so that a resend racing its original finds it once that commits.
    lock_device(session, device.id)
    existing = _existing_read(session, device, read, images)
    if existing is not None:
        return ImageReadOutcome(existing, "duplicate")
    identity = picture_read_identity(
        read_sender(device.id, None),
        read.client_read_id,
        [i.info.sha256 for i in images],
        read.captured_at,
    )
    if known_destroyed(session, [identity]):  # OCR found an ACP plate on it: counted once
        return ImageReadOutcome(None, "destroyed_acp")
    # Collected now, though its plate is not known yet: the log of use counts it now.
    (period,) = place_in_periods(session, device, [read.captured_at], gap_minutes=gap_minutes)
    stored = Read(
        device_id=device.id,
        captured_at=read.captured_at,
        latitude=read.latitude,
        longitude=read.longitude,
        client_read_id=read.client_read_id,
        plate_status=PlateStatus.PENDING_OCR.value,
        active_use_period_id=period.id,
    )
    session.add(stored)
    count_in_periods(session, reads=[period])
    note_device_use(session, device, [read.captured_at], utcnow())
    session.flush()
    key = (stored.id, read.captured_at)
    record_many(session, [add_read_images(session, device, key, images, stored.plate_status)])
    return ImageReadOutcome(stored, "stored")


def take_back_images(session: Session, digests: list[str]) -> None:
    """Remove the pictures a rolled-back upload wrote; commits. Call after the rollback.

    A picture that a committed row references stays. When the store does not answer (it may
    be what failed the upload, and an S3 PUT cut off mid-answer may still have stored the
    object) the digests left are tombstoned instead, and the next purge removes them
    (:func:`app.retention.purge.destroy_expired_reads` finishes every tombstone first), so no
    object outlives its upload unreferenced.
    """
    for n, digest in enumerate(digests):
        try:
            remove_unreferenced_image(session, digest)
        except ImageStoreUnavailable:
            session.rollback()
            queue_tombstones(session, set(digests[n:]))
            break
    session.commit()


def add_read_images(
    session: Session,
    device: Device,
    read_key: tuple[int, datetime],
    images: list[IncomingImage],
    plate_status: str = PlateStatus.REPORTED.value,
) -> PendingEntry:
    """Write a new read's pictures to the store with their rows; their audit entry, unappended.

    `read_key` is the stored read's (id, captured_at). Shared by the image upload and the camera
    adapters (app.alpr.adapters), whose pictures are already cleaned of metadata; the ingest
    appends the entry with its batch's (``ingest_reads(attach=...)``). The caller takes the
    files back if its transaction fails.
    """
    read_id, captured_at = read_key
    for image in images:
        write_image(session, image.data, image.info)
        session.add(
            ReadImage(
                read_id=read_id,
                read_captured_at=captured_at,
                kind=image.kind.value,
                sha256=image.info.sha256,
                content_type=image.info.content_type,
                byte_size=image.info.byte_size,
                width=image.info.width,
                height=image.info.height,
            )
        )
    return PendingEntry(
        device_actor(device),
        AuditAction.READ_IMAGE_STORED,
        ("reads", read_id),
        {
            "plate_status": plate_status,
            "images": [
                {"kind": i.kind.value, "sha256": i.info.sha256, "bytes": i.info.byte_size}
                for i in images
            ],
        },
    )


def screen_final_plate(session: Session, actor: User | str, read: Read) -> Deleted | None:
    """Apply the ACP screen (425.5(b)) to a plate that OCR or a reviewer just gave a read.

    A suppressed plate's read is destroyed now, pictures included (the Deleted it returns
    names the files to remove once the caller commits); a held one is kept, marked deferred.
    """
    facts = ReadFacts(read.plate, read.captured_at, read.device_id)
    verdict = screen_at_collection(session, [facts])[0]
    if verdict is AcpVerdict.DESTROY:
        remember_stored_destroyed(session, [read.id])
        return delete_reads(session, [read.id], actor)
    if verdict is AcpVerdict.DEFER:
        read.acp_deferred_at = utcnow()
    return None


def _lock_device_first(session: Session, read: Read) -> None:
    """Take the device's row lock before any audit append, in the order ingest takes them.

    Every writer locks the device row, then the audit chain (which serialises appends until
    the commit); taking them the other way round could deadlock with a batch from the camera.
    """
    if read.device_id is not None:
        lock_device(session, read.device_id)


def match_final_plate(session: Session, actor: User | str, read: Read) -> int:
    """Compare a plate that is now final with the hotlists (425.4.1(b)); how many hits.

    The read was counted in its period of active use when it arrived; the lists compared and
    its hits are added to that period now, as they are created (425.5.1).
    """
    sources = sources_in_force(session)
    matches = find_matches(session, [(read.id, read.captured_at, read.plate)], sources)
    if read.active_use_period_id is not None and read.device_id is not None:
        lock_device(session, read.device_id)
        period = session.get(ActiveUsePeriod, read.active_use_period_id, populate_existing=True)
        if period is not None:
            count_in_periods(
                session,
                hits=[(period, category) for _, category in log_hits(matches)],
                compared=sorted(sources.values()),
            )
    record_hits(session, actor, matches)
    return len(matches)


def images_for_ocr(read: Read) -> list[ReadImage]:
    """The read's pictures in the order OCR should try them."""
    by_kind = {image.kind: image for image in read.images}
    return [by_kind[kind.value] for kind in OCR_IMAGE_ORDER if kind.value in by_kind]


def _ocr_plate(text: str) -> str:
    """OCR's text as a plate in the one stored spelling, or "" when it cannot be a plate.

    An engine's text that no plate could have (more than 10 characters, say) is no reading.
    """
    try:
        return normalise_plate(text) if text else ""
    except FieldError:
        return ""


def record_ocr_result(
    session: Session, read: Read, result: OcrResult, image_kind: ImageKind | None
) -> Deleted | None:
    """Apply OCR's verdict: accepted, sent to review, or unreadable; audited.

    OCR's text goes through the same normaliser as every other plate. The plate is screened
    against ACP requests first (425.5(b)): a suppressed plate's read is
    destroyed and its audit entry carries no plate; the returned Deleted names the files to
    remove after the commit. Only an accepted plate is matched against the hotlists now; a
    doubtful one is matched when an operator confirms or corrects it, so an alert never rests
    on a plate nobody trusts.
    """
    _lock_device_first(session, read)
    plate = _ocr_plate(result.plate)
    event = "ocr_fail" if not plate else "ocr_doubt" if result.needs_review else "ocr_accept"
    step = start_step(session, OCR_ACTOR, read, event, plate=plate)
    read.plate = plate or None
    read.ocr_confidence = result.confidence
    # The engines' readings help a reviewer only while the plate is in doubt; a decided plate
    # keeps none of the alternatives (425.4.1(a): the plate read, not what else it might be).
    doubtful = read.plate_status == PlateStatus.NEEDS_REVIEW.value
    read.ocr_candidates = json.dumps(result.engines, sort_keys=True) if doubtful else None
    details: dict[str, Any] = {
        "confidence": result.confidence,
        "image": image_kind.value if image_kind else None,
    }
    deleted = screen_final_plate(session, OCR_ACTOR, read) if read.plate else None
    if deleted is not None:
        step.record(
            AuditAction.READ_OCR_COMPLETED,
            details={**details, "plate_status": "destroyed_acp"},
            audited_as=("reads", read.id),
        )
        return deleted
    step.record(
        AuditAction.READ_OCR_COMPLETED,
        details={
            **details,
            "plate": read.plate,
            "plate_status": read.plate_status,
            "engines": result.engines,
        },
    )
    if read.plate_status == PlateStatus.OCR_ACCEPTED.value:
        match_final_plate(session, OCR_ACTOR, read)
    return None


def _decide_plate(
    session: Session, actor: User, read: Read, event: str, plate: str, action: AuditAction
) -> Deleted | None:
    """A reviewer's decision: the step, the ACP screen, the audit entry, then the hotlists."""
    _lock_device_first(session, read)
    before = read.plate
    step = start_step(session, actor, read, event, plate=plate)
    read.plate = plate
    read.ocr_candidates = None  # decided: OCR's alternatives are no longer kept
    deleted = screen_final_plate(session, actor, read)
    if deleted is not None:
        # The read is the participant's: neither OCR's reading nor the reviewer's may stay.
        outcome = {"confidence": read.ocr_confidence, "outcome": "destroyed_acp"}
        step.record(action, details=outcome, audited_as=("reads", read.id))
        return deleted
    details = {"before": before, "confidence": read.ocr_confidence, "after": plate}
    step.record(action, details=details)
    match_final_plate(session, actor, read)
    return None


def confirm_plate(session: Session, actor: User, read: Read) -> Deleted | None:
    """An operator confirms the plate OCR was unsure of; it is then matched (425.4.1(b))."""
    return _decide_plate(
        session, actor, read, "confirm", read.plate or "", AuditAction.READ_PLATE_CONFIRMED
    )


def correct_plate(session: Session, actor: User, read: Read, plate: str) -> Deleted | None:
    """An operator replaces OCR's plate with what the picture shows; audited before/after.

    Raises FieldError for text that is no plate; the plate is stored in the one spelling
    (:func:`app.reads.plates.normalise_plate`), O folded into 0.
    """
    plate = normalise_plate(plate)
    return _decide_plate(session, actor, read, "correct", plate, AuditAction.READ_PLATE_CORRECTED)


def review_queue(session: Session, actor: User) -> list[Read]:
    """The reads an operator must look at, oldest first; showing them is an audited access.

    A read whose plate an ACP request keeps out of use (425.5(b)) waits for its destruction
    instead.
    """
    reads = list(
        session.scalars(
            select(Read)
            .where(Read.plate_status == PlateStatus.NEEDS_REVIEW.value, visible_reads())
            .order_by(Read.captured_at, Read.id)
            .limit(REVIEW_PAGE_SIZE)
            .options(selectinload(Read.images))
        )
    )
    record(
        session,
        actor,
        AuditAction.REVIEW_QUEUE_VIEWED,
        None,
        {"result_count": len(reads), "read_ids": [r.id for r in reads]},
    )
    return reads


def candidates(read: Read) -> dict[str, Any]:
    """Each engine's reading of the read, for the reviewer (empty when OCR never ran)."""
    return json.loads(read.ocr_candidates) if read.ocr_candidates else {}


def review_waiting(session: Session) -> int:
    """How many plates wait in the review queue (a count: no read is shown, none audited)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Read)
            .where(Read.plate_status == PlateStatus.NEEDS_REVIEW.value, visible_reads())
        )
        or 0
    )
