"""The purge on PostgreSQL: a collection day past retention leaves as a whole partition (425.5).

Deleting a day's reads row by row fires the pictures' and hits' foreign-key triggers once per
read; dropping the day's partition does not. So for each day partition wholly before the
cutoff, in one transaction:

1. lock the day's partition against writers and count what it holds, what a hold keeps and
   what goes (an ACP-deferred read that no hold keeps goes too);
2. copy the kept reads into a new table, and their pictures and hits aside;
3. delete the day's pictures (their digests come back for the tombstones) and hits: plain
   deletes, nothing refers to those rows;
4. detach and drop the day's partition; if any read was kept, the new table takes its place
   and the kept pictures and hits come back, ids unchanged;
5. redact the audit details that name the plates of destroyed reads, queue the tombstones of
   pictures no row uses any more, add the counts to the purge run and append one READS_PURGED
   entry (counts, never plates).

The cost follows the kept rows, not the day's size. Detaching locks ``reads`` exclusively for
the rest of that short transaction; ``lock_timeout`` bounds the wait, and a day that cannot get
its locks is left to the row-by-row batches that run after (:mod:`app.retention.purge`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Column, MetaData, Table, and_, func, insert, not_, select, text
from sqlalchemy.orm import Session

from app.reads.models import Read
from app.reads.partitions import (
    attach_day,
    create_table_like_reads,
    day_bounds,
    day_partitions,
    lock_partitions,
    partition_name,
)
from app.retention.destruction import (
    CAMERA_PLATE,
    Deleted,
    held_clause,
    queue_tombstones,
    record_purged,
    redact_plates_of,
)
from app.retention.holds import scopes_keeping
from app.retention.ledger import record_day
from app.retention.models import PurgeRun

#: How long a day's swap waits for its locks before leaving the day to the row-by-row batches.
LOCK_TIMEOUT_MS = 5_000


@dataclass(frozen=True)
class _DayCounts:
    reads: int
    kept: int
    acp_deferred: int


def expired_days(session: Session, cutoff: datetime) -> list[date]:
    """The day partitions that end at or before `cutoff`, oldest first."""
    return [day for day in day_partitions(session) if day_bounds(day)[1] <= cutoff]


def _shadow_of_reads(name: str) -> Table:
    """A Core handle on a table shaped like ``reads`` (the day's replacement)."""
    return Table(name, MetaData(), *(Column(c.name, c.type) for c in Read.__table__.c))


def _count(session: Session, in_day: object, held: object) -> _DayCounts:
    total, kept, deferred = session.execute(
        select(
            func.count(),
            func.count().filter(held),
            func.count().filter(and_(Read.acp_deferred_at.is_not(None), not_(held))),
        ).where(in_day)
    ).one()
    return _DayCounts(total, kept, deferred)


def destroy_day(session: Session, run: PurgeRun, actor: object, day: date) -> Deleted | None:
    """Destroy the reads of `day` that no hold keeps, by swapping its partition (see above).

    Returns what was destroyed, or None when the day held nothing to destroy (an empty
    partition is dropped all the same). Raises :class:`sqlalchemy.exc.OperationalError` when
    the locks are not granted within :data:`LOCK_TIMEOUT_MS`; the caller rolls back. Flushes,
    never commits.
    """
    session.execute(text(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}"))
    lock_partitions(session)
    if day not in day_partitions(session):  # another run swapped it out first
        return None
    part = partition_name(day)
    session.execute(text(f'LOCK TABLE "{part}" IN EXCLUSIVE MODE'))
    start, end = day_bounds(day)
    bounds = {"start": start, "end": end}
    in_day = and_(Read.captured_at >= start, Read.captured_at < end)
    held = held_clause(scopes_keeping(session))
    counts = _count(session, in_day, held)
    if counts.reads and counts.kept == counts.reads:
        return None

    # Reads whose plate OCR or a reviewer gave have audit entries naming it (few: cameras
    # mostly send the plate as text); those details go with the reads.
    redact_plates_of(
        session,
        actor,
        session.scalars(
            select(Read.id).where(in_day, not_(held), Read.plate_status != CAMERA_PLATE)
        ).all(),
    )
    record_day(
        session,
        start,
        end,
        session.execute(select(Read.id, Read.captured_at).where(in_day, held)).tuples(),
    )
    kept_image_ids: set[int] = set()
    replacement = f"{part}_next"
    if counts.kept:
        create_table_like_reads(session, replacement)
        columns = [c.name for c in Read.__table__.c]
        session.execute(
            insert(_shadow_of_reads(replacement)).from_select(
                columns, select(*Read.__table__.c).where(in_day, held)
            )
        )
        for child in ("hits", "read_images"):
            session.execute(
                text(
                    f"CREATE TEMP TABLE kept_{child} ON COMMIT DROP AS "  # noqa: S608 (constant names)
                    f'SELECT c.* FROM {child} c JOIN "{replacement}" r '
                    "ON r.id = c.read_id AND r.captured_at = c.read_captured_at "
                    "WHERE c.read_captured_at >= :start AND c.read_captured_at < :end"
                ),
                bounds,
            )
        kept_image_ids = set(session.scalars(text("SELECT id FROM kept_read_images")))

    session.execute(
        text("DELETE FROM hits WHERE read_captured_at >= :start AND read_captured_at < :end"),
        bounds,
    )
    images = session.execute(
        text(
            "DELETE FROM read_images WHERE read_captured_at >= :start AND read_captured_at < :end "
            "RETURNING id, sha256"
        ),
        bounds,
    ).all()
    # The partition's oldest read, kept ones included: an upper bound of the destroyed's age.
    oldest = session.scalar(text(f'SELECT min(captured_at) FROM "{part}"'))  # noqa: S608
    session.execute(text(f'ALTER TABLE reads DETACH PARTITION "{part}"'))
    session.execute(text(f'DROP TABLE "{part}"'))
    if counts.kept:
        check = f"{part}_bounds"  # lets the attach skip scanning the table for its range
        session.execute(
            text(
                f'ALTER TABLE "{replacement}" ADD CONSTRAINT "{check}" CHECK '
                f"(captured_at >= '{start.isoformat()}' AND captured_at < '{end.isoformat()}')"
            )
        )
        session.execute(text(f'ALTER TABLE "{replacement}" RENAME TO "{part}"'))
        attach_day(session, part, day)
        session.execute(text(f'ALTER TABLE "{part}" DROP CONSTRAINT "{check}"'))
        session.execute(text("INSERT INTO hits SELECT * FROM kept_hits"))
        session.execute(text("INSERT INTO read_images SELECT * FROM kept_read_images"))
    if not counts.reads:
        return None

    destroyed_images = [sha for image_id, sha in images if image_id not in kept_image_ids]
    deleted = Deleted(
        reads=counts.reads - counts.kept,
        images=len(destroyed_images),
        acp_deferred=counts.acp_deferred,
        orphans=frozenset(queue_tombstones(session, set(destroyed_images))),
        oldest_captured_at=oldest,
    )
    record_purged(
        session,
        run,
        actor,
        deleted,
        phase="expired_day",
        day=day.isoformat(),
        kept_by_holds=counts.kept,
    )
    return deleted
