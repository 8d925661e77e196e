"""The retention purge (425.5): destroy every destroyable read, with its images, in batches.

The SQL here is :func:`app.retention.policy.is_destroyable` written as a WHERE clause; a
property test runs this purge against the pure function to keep the two in agreement.

Crash safety: each batch deletes its rows and, in the same transaction, queues the digests
of pictures no remaining row references as :class:`ImageTombstone` rows. Only after the
commit are the files removed (under the image store's digest lock, re-checking that no row
references the picture) and their tombstones deleted. A run that dies anywhere leaves either
rows with their files, or tombstones whose files the next run removes first, never a row
pointing at a missing file nor a file nobody can reach.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    func,
    literal,
    not_,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.alpr.images import remove_unreferenced_image
from app.alpr.models import Hit, Read, ReadImage
from app.audit.actions import AuditAction
from app.audit.services import record
from app.db import utcnow
from app.retention.holds import scopes_in_force
from app.retention.models import ImageTombstone, PurgeRun
from app.retention.policy import HoldScope, retention_cutoff

#: Tombstones handled per transaction when removing files after a commit.
TOMBSTONE_CHUNK = 500

SessionFactory = Callable[[], Session]


@dataclass
class PurgeResult:
    """Counts of one run (never plates): what the CLI prints and the job records."""

    run_id: int
    cutoff: datetime
    reads_destroyed: int = 0
    images_destroyed: int = 0
    acp_deferred_destroyed: int = 0
    files_removed: int = 0
    leftover_files_removed: int = 0
    batches: int = 0

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form for JobRun results and the CLI."""
        return {
            "run_id": self.run_id,
            "cutoff": self.cutoff.isoformat(),
            "reads_destroyed": self.reads_destroyed,
            "images_destroyed": self.images_destroyed,
            "acp_deferred_destroyed": self.acp_deferred_destroyed,
            "files_removed": self.files_removed,
            "leftover_files_removed": self.leftover_files_removed,
            "batches": self.batches,
        }


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


def destroyable_clause(holds: Sequence[HoldScope], cutoff: datetime) -> ColumnElement[bool]:
    """SQL of :func:`app.retention.policy.is_destroyable` (ACP suppression = a deferred read)."""
    return and_(
        or_(Read.captured_at <= cutoff, Read.acp_deferred_at.is_not(None)),
        not_(held_clause(holds)),
    )


def count_destroyable(session: Session, now: datetime, retention_days: int) -> int:
    """How many reads the rule says must be gone at `now` (the dashboard's compliance line)."""
    clause = destroyable_clause(scopes_in_force(session), retention_cutoff(now, retention_days))
    return session.scalar(select(func.count()).select_from(Read).where(clause)) or 0


def _queue_tombstones(session: Session, digests: set[str]) -> set[str]:
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


def _among(column: ColumnElement, ids: list[int], dialect: str) -> ColumnElement[bool]:
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


def delete_reads(session: Session, ids: list[int]) -> Deleted:
    """Delete the reads `ids` with their images and hits; tombstone the files now unused.

    The children go first, each in one set-based statement: the image rows so that their
    digests come back (a cascade would drop them silently), the hits so that the foreign
    keys' ``ON DELETE CASCADE`` triggers, which still fire once per read, find nothing left
    to do. Flushes, never commits; the caller commits, then calls :func:`finish_tombstones`.
    """
    if not ids:
        return Deleted(0, 0, 0, frozenset())
    dialect = session.get_bind().dialect.name
    # Core statements on the session's connection (no ORM result processing for 10^4 rows),
    # after flushing what the caller changed: e.g. OCR's new plate on a read it destroys.
    session.flush()
    conn = session.connection()
    hits, images, reads = Hit.__table__.c, ReadImage.__table__.c, Read.__table__.c
    conn.execute(delete(Hit.__table__).where(_among(hits.read_id, ids, dialect)))
    digests = list(
        conn.execute(
            delete(ReadImage.__table__)
            .where(_among(images.read_id, ids, dialect))
            .returning(images.sha256)
        ).scalars()
    )
    # The column itself, not `acp_deferred_at IS NOT NULL`: SQLite evaluates an expression in
    # DELETE ... RETURNING as true for every row, so the test is made here.
    deferred_at = list(
        conn.execute(
            delete(Read.__table__)
            .where(_among(reads.id, ids, dialect))
            .returning(reads.acp_deferred_at)
        ).scalars()
    )
    _forget_deleted(session, set(ids))
    orphans = _queue_tombstones(session, set(digests))
    deferred = sum(value is not None for value in deferred_at)
    return Deleted(len(deferred_at), len(digests), deferred, frozenset(orphans))


def _destroy_batch(
    session: Session, run: PurgeRun, actor: object, ids: list[int], phase: str
) -> Deleted:
    """One purge batch: delete, count on the run, one READS_PURGED entry (counts only)."""
    deleted = delete_reads(session, ids)
    run.reads_destroyed += deleted.reads
    run.images_destroyed += deleted.images
    run.acp_deferred_destroyed += deleted.acp_deferred
    record(
        session,
        actor,  # type: ignore[arg-type]
        AuditAction.READS_PURGED,
        run,
        {
            "phase": phase,
            "reads": deleted.reads,
            "images": deleted.images,
            "acp_deferred": deleted.acp_deferred,
            "cutoff": run.cutoff.isoformat(),
        },
    )
    return deleted


@dataclass(frozen=True)
class _Phase:
    """Which reads one pass of the purge walks, and the indexed key it walks them by."""

    name: str
    candidates: ColumnElement[bool]
    key: InstrumentedAttribute[datetime]


def _next_batch(
    session: Session, phase: _Phase, after: tuple[datetime, int] | None, limit: int
) -> tuple[list[int], tuple[datetime, int] | None]:
    """The ids of the next `limit` destroyable reads of `phase` after the cursor, in key order.

    One statement: a range scan of the key's index (the cursor's key value is given as a plain
    lower bound so the index is entered there, not at its start, which would make each batch
    re-read every held row and dead entry before it), less the rows an in-force hold keeps.
    Returns the ids and the cursor for the next call (None once the phase is exhausted).
    """
    stmt = select(Read.id).where(phase.candidates, not_(held_clause(scopes_in_force(session))))
    if after is not None:
        stmt = stmt.where(
            phase.key >= after[0],
            tuple_(phase.key, Read.id) > tuple_(literal(after[0], phase.key.type), after[1]),
        )
    ids = list(
        session.connection().execute(stmt.order_by(phase.key, Read.id).limit(limit)).scalars()
    )
    if len(ids) < limit:
        return ids, None
    last_key = session.scalar(select(phase.key).where(Read.id == ids[-1]))
    return ids, (last_key, ids[-1])  # type: ignore[return-value]


def destroy_expired_reads(
    session_factory: SessionFactory,
    actor: object,
    now: datetime | None = None,
    batch_size: int = 50_000,
    *,
    retention_days: int = 60,
    after_commit: Callable[[int], None] | None = None,
) -> PurgeResult:
    """Destroy every read that :func:`is_destroyable` condemns at `now`, batch by batch.

    Two phases, each walking an index with a keyset cursor so held rows are skipped once
    rather than rescanned: reads past the cutoff (``captured_at`` index), then reads whose
    ACP destruction was deferred and that no hold keeps any longer. The in-force holds are
    reloaded for every batch, so a hold placed or released during a long run counts from the
    next batch on. Each batch is a handful of set-based statements (no ORM objects per read)
    and commits its deletes, its tombstones, its PurgeRun counters and one READS_PURGED audit
    entry together; files are removed after the commit.

    `after_commit(batch_number)` is called between a batch's commit and its file removal
    (tests inject a crash there). Leftover tombstones of an earlier, interrupted run are
    finished first.
    """
    now = now or utcnow()
    cutoff = retention_cutoff(now, retention_days)
    leftover = finish_tombstones(session_factory)
    with session_factory() as session:
        run = PurgeRun(started_at=utcnow(), cutoff=cutoff)
        session.add(run)
        session.commit()
        run_id = run.id
    result = PurgeResult(run_id=run_id, cutoff=cutoff, leftover_files_removed=leftover)

    phases = (
        _Phase("expired", Read.captured_at <= cutoff, Read.captured_at),
        _Phase("acp_deferred", Read.acp_deferred_at.is_not(None), Read.acp_deferred_at),
    )
    for phase in phases:
        cursor: tuple[datetime, int] | None = None
        while True:
            with session_factory() as session:
                ids, cursor = _next_batch(session, phase, cursor, batch_size)
                if not ids:
                    break
                run = session.get_one(PurgeRun, run_id)
                deleted = _destroy_batch(session, run, actor, ids, phase.name)
                session.commit()
            result.batches += 1
            result.reads_destroyed += deleted.reads
            result.images_destroyed += deleted.images
            result.acp_deferred_destroyed += deleted.acp_deferred
            if after_commit is not None:
                after_commit(result.batches)
            result.files_removed += finish_tombstones(session_factory, set(deleted.orphans))
            if cursor is None:
                break

    with session_factory() as session:
        run = session.get_one(PurgeRun, run_id)
        run.finished_at = utcnow()
        session.commit()
    return result
