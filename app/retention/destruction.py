"""Destroying reads (425.5): the SQL of the retention rule, and deleting reads with their files.

Every path that destroys reads comes through here: the daily purge (:mod:`app.retention.purge`),
an ACP participant's request (:mod:`app.retention.acp`), and OCR or a reviewer giving a read a
suppressed plate. The SQL here is :func:`app.retention.policy.is_destroyable` written as a WHERE
clause; a property test runs the purge against the pure function to keep the two in agreement.

Crash safety: a deletion queues, in the same transaction, the digests of pictures no remaining
row references as :class:`ImageTombstone` rows. Only after the commit are the files removed
(under the image store's digest lock, re-checking that no row references the picture) and their
tombstones deleted. A process that dies anywhere leaves either rows with their files, or
tombstones whose files the next run removes first, never a row pointing at a missing file nor a
file nobody can reach.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    any_,
    bindparam,
    delete,
    false,
    not_,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.models import AuditDetail, AuditEntry
from app.audit.services import record, redact_many
from app.db import utcnow
from app.reads.bulk import text_in
from app.reads.images import remove_unreferenced_image
from app.reads.models import Hit, PlateStatus, Read, ReadImage
from app.retention.ledger import record_reads
from app.retention.models import ImageTombstone, PurgeRun
from app.retention.policy import HoldScope

#: Tombstones handled per transaction when removing files after a commit.
TOMBSTONE_CHUNK = 500
#: Audit entries about one read that carry its plate: OCR's reading, a reviewer's decision.
PLATE_BEARING_ACTIONS = (
    AuditAction.READ_OCR_COMPLETED,
    AuditAction.READ_PLATE_CONFIRMED,
    AuditAction.READ_PLATE_CORRECTED,
)
DESTROYED_REASON = "the read was destroyed (policy 425.5)"
#: A read whose plate the camera sent has no entry naming it (ingest records counts only):
#: only reads whose plate came from OCR or a reviewer need :func:`redact_plates_of`.
CAMERA_PLATE = PlateStatus.REPORTED.value

SessionFactory = Callable[[], Session]


def held_clause(holds: Sequence[HoldScope]) -> ColumnElement[bool]:
    """SQL of :func:`app.retention.policy.is_held` for these (in-force) holds.

    Every term is two-valued (NULL plates or devices compare FALSE, never NULL), so that
    ``NOT held`` is TRUE for an unheld read whose plate is not yet known.
    """
    terms: list[ColumnElement[bool]] = []
    for hold in holds:
        parts: list[ColumnElement[bool]] = [
            Read.captured_at >= hold.window_start,
            Read.captured_at <= hold.window_end,
        ]
        if hold.plates:
            parts += [Read.plate.is_not(None), Read.plate.in_(sorted(hold.plates))]
        if hold.device_ids:
            parts += [Read.device_id.is_not(None), Read.device_id.in_(sorted(hold.device_ids))]
        terms.append(and_(*parts))
    return or_(*terms) if terms else false()


def destroyable_clause(
    holds: Sequence[HoldScope], cutoff: datetime, deferring: Sequence[HoldScope]
) -> ColumnElement[bool]:
    """SQL of :func:`app.retention.policy.is_destroyable` (ACP suppression = a deferred read).

    `holds` keep data from the 60-day rule, `deferring` (the holds in force) from an ACP
    participant's destruction.
    """
    return or_(
        and_(Read.captured_at < cutoff, not_(held_clause(holds))),
        and_(Read.acp_deferred_at.is_not(None), not_(held_clause(deferring))),
    )


def queue_tombstones(session: Session, digests: set[str]) -> set[str]:
    """Tombstone the digests no remaining row references; returns them."""
    if not digests:
        return set()
    still_used = set(
        session.scalars(select(ReadImage.sha256).where(ReadImage.sha256.in_(digests)).distinct())
    )
    orphans = digests - still_used
    if orphans:
        insert = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        session.execute(
            insert(ImageTombstone)
            .values([{"sha256": digest, "queued_at": utcnow()} for digest in sorted(orphans)])
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
    return orphans


def finish_tombstones(
    session_factory: SessionFactory, digests: set[str] | frozenset[str] | None = None
) -> int:
    """Remove the files of queued tombstones (all of them, or just `digests`); count removals.

    Each file goes under the digest lock after re-checking that no row references it (an
    upload may have brought the same picture back since), then its tombstone is deleted and the
    chunk committed. Dying half-way leaves tombstones for the next run; a file already gone
    is simply not counted.
    """
    removed = 0
    while True:
        with session_factory() as session:
            stmt = select(ImageTombstone.sha256).order_by(ImageTombstone.sha256)
            if digests is not None:
                stmt = stmt.where(ImageTombstone.sha256.in_(digests))
            chunk = list(session.scalars(stmt.limit(TOMBSTONE_CHUNK)))
            if not chunk:
                return removed
            for digest in chunk:
                removed += remove_unreferenced_image(session, digest)
            session.execute(delete(ImageTombstone).where(ImageTombstone.sha256.in_(chunk)))
            session.commit()


@dataclass(frozen=True)
class Deleted:
    """What one deletion removed: counts, and the digests whose files must now go."""

    reads: int
    images: int
    acp_deferred: int
    orphans: frozenset[str]
    #: When the oldest read destroyed was collected: the biennial report's destruction
    #: timeliness is the age of that read at destruction.
    oldest_captured_at: datetime | None = None


def id_among(column: ColumnElement, ids: list[int], dialect: str) -> ColumnElement[bool]:
    """``column IN ids``; one array parameter on PostgreSQL instead of thousands of binds."""
    if dialect == "postgresql":
        return column == any_(bindparam("ids", ids, type_=postgresql.ARRAY(BigInteger)))
    return column.in_(ids)


def _forget_deleted(session: Session, ids: set[int]) -> None:
    """Drop from the session the loaded reads, images and hits whose rows were just deleted.

    Core deletes bypass the identity map; without this a later flush would update a row that
    is gone.
    """
    for obj in list(session.identity_map.values()):
        gone = (isinstance(obj, Read) and obj.id in ids) or (
            isinstance(obj, ReadImage | Hit) and obj.read_id in ids
        )
        if gone and obj in session:  # a read's images leave with it (expunge cascades)
            session.expunge(obj)


def redact_plates_of(session: Session, actor: object, read_ids: Collection[int]) -> None:
    """Blank the audit details that name the plate of reads being destroyed.

    OCR's reading and a reviewer's decision are recorded against the read with its plate. The
    chain keeps each entry's header and digest, so what was done stays provable, while the
    plate, which is the destroyed data itself, goes with the read; one entry records the
    redaction (:func:`app.audit.services.redact_many`). Callers pass only the reads whose
    plate did not come from the camera (:data:`CAMERA_PLATE`), which spares the lookup for most.
    """
    if not read_ids:
        return
    entry_ids = session.scalars(
        select(AuditEntry.id)
        .join(AuditDetail, AuditDetail.entry_id == AuditEntry.id)
        .where(
            AuditEntry.subject_type == Read.__tablename__,
            text_in(session, AuditEntry.subject_id, [str(i) for i in read_ids]),
            AuditEntry.action.in_([action.value for action in PLATE_BEARING_ACTIONS]),
            AuditDetail.redacted_at.is_(None),
        )
    ).all()
    redact_many(session, actor, entry_ids, DESTROYED_REASON)


def delete_reads(session: Session, ids: list[int], actor: object) -> Deleted:
    """Delete the reads `ids` with their images and hits; tombstone the files now unused.

    The children go first, each in one set-based statement: the image rows so that their
    digests come back (a cascade would drop them silently), the hits so that the foreign
    keys' ``ON DELETE CASCADE`` triggers, which still fire once per read, find nothing left
    to do. The audit details naming the plates OCR or a reviewer gave them are redacted by
    `actor` (:func:`redact_plates_of`). Flushes, never commits; the caller commits, then calls
    :func:`finish_tombstones`.
    """
    if not ids:
        return Deleted(0, 0, 0, frozenset())
    dialect = session.get_bind().dialect.name
    # Core statements on the session's connection (no ORM result processing for 10^4 rows),
    # after flushing what the caller changed: e.g. OCR's new plate on a read it destroys.
    session.flush()
    conn = session.connection()
    hits, images, reads = Hit.__table__.c, ReadImage.__table__.c, Read.__table__.c
    conn.execute(delete(Hit.__table__).where(id_among(hits.read_id, ids, dialect)))
    digests = list(
        conn.execute(
            delete(ReadImage.__table__)
            .where(id_among(images.read_id, ids, dialect))
            .returning(images.sha256)
        ).scalars()
    )
    # The columns themselves, not `acp_deferred_at IS NOT NULL`: SQLite evaluates an expression
    # in DELETE ... RETURNING as true for every row, so the tests are made here.
    gone = conn.execute(
        delete(Read.__table__)
        .where(id_among(reads.id, ids, dialect))
        .returning(reads.id, reads.acp_deferred_at, reads.plate_status, reads.captured_at)
    ).all()
    _forget_deleted(session, set(ids))
    if gone:
        captured = [at for *_, at in gone]
        record_reads(session, [read_id for read_id, *_ in gone], min(captured), max(captured))
    redact_plates_of(
        session, actor, [read_id for read_id, _, status, _ in gone if status != CAMERA_PLATE]
    )
    orphans = queue_tombstones(session, set(digests))
    deferred = sum(deferred_at is not None for _, deferred_at, _, _ in gone)
    oldest = min((captured for *_, captured in gone), default=None)
    return Deleted(len(gone), len(digests), deferred, frozenset(orphans), oldest)


def record_purged(
    session: Session, run: PurgeRun, actor: object, deleted: Deleted, **details: object
) -> None:
    """Add a purge step's destruction to its run and append its READS_PURGED entry.

    The entry holds counts (and `details` such as the phase), never plates.
    """
    run.reads_destroyed += deleted.reads
    run.images_destroyed += deleted.images
    run.acp_deferred_destroyed += deleted.acp_deferred
    record(
        session,
        actor,  # type: ignore[arg-type]
        AuditAction.READS_PURGED,
        run,
        {
            **details,
            "reads": deleted.reads,
            "images": deleted.images,
            "acp_deferred": deleted.acp_deferred,
            "cutoff": run.cutoff.isoformat(),
            "oldest_captured_at": (
                deleted.oldest_captured_at.isoformat() if deleted.oldest_captured_at else None
            ),
        },
    )
