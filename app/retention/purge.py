"""The retention purge (425.5): destroy every destroyable read, with its images, on time.

Two ways, one rule (:func:`app.retention.policy.is_destroyable`, as SQL in
:mod:`app.retention.destruction`). On PostgreSQL a collection day past retention leaves as a
whole partition, its held reads copied into the day's replacement
(:mod:`app.retention.purge_days`). Then batches of row deletions take whatever else the rule
condemns: every read on SQLite, and on PostgreSQL reads outside a day partition, a day whose
swap could not get its lock in time, and ACP-deferred reads that no hold keeps any longer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, literal, not_, select, tuple_
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.core.timeutil import local_today
from app.db import utcnow
from app.investigations.services import lapse_ended_schedules
from app.reads.models import Read
from app.reads.partitions import is_partitioned, maintain_partitions
from app.retention.acp.digests import forget_destroyed_before, remember_stored_destroyed
from app.retention.destruction import (
    Deleted,
    SessionFactory,
    delete_reads,
    finish_tombstones,
    held_clause,
    record_purged,
)
from app.retention.holds import scopes_in_force, scopes_keeping
from app.retention.models import PurgeRun
from app.retention.policy import HoldScope, retention_cutoff
from app.retention.purge_days import destroy_day, expired_days

log = logging.getLogger(__name__)


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
    #: Transactions that destroyed something: day swaps and row batches.
    batches: int = 0
    #: Day partitions swapped out (PostgreSQL).
    days: int = 0
    #: Keyed digests of ACP-destroyed reads dropped as past retention (app.retention.acp.digests).
    acp_digests_forgotten: int = 0
    #: Closed cases whose records-retention schedule ended: their data released first.
    schedules_lapsed: int = 0

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
            "days": self.days,
            "acp_digests_forgotten": self.acp_digests_forgotten,
            "schedules_lapsed": self.schedules_lapsed,
        }


def _destroy_batch(
    session: Session, run: PurgeRun, actor: object, ids: list[int], phase: str
) -> Deleted:
    """One purge batch: delete, count on the run, one READS_PURGED entry (counts only).

    A deferred participant's read may still be within retention: its digest is kept so that
    a resend is known (:func:`remember_stored_destroyed`).
    """
    if phase == "acp_deferred":
        remember_stored_destroyed(session, ids)
    deleted = delete_reads(session, ids, actor)
    record_purged(session, run, actor, deleted, phase=phase)
    return deleted


@dataclass(frozen=True)
class _Phase:
    """Which reads one pass of the purge walks, and the indexed key it walks them by.

    `sparing` loads the holds that keep a read from this pass (again for every batch).
    """

    name: str
    candidates: ColumnElement[bool]
    key: InstrumentedAttribute[datetime]
    sparing: Callable[[Session], list[HoldScope]]


def _next_batch(
    session: Session, phase: _Phase, after: tuple[datetime, int] | None, limit: int
) -> tuple[list[int], tuple[datetime, int] | None]:
    """The ids of the next `limit` destroyable reads of `phase` after the cursor, in key order.

    One statement: a range scan of the key's index (the cursor's key value is given as a plain
    lower bound so the index is entered there, not at its start, which would make each batch
    re-read every held row and dead entry before it), less the rows the phase's holds keep.
    Returns the ids and the cursor for the next call (None once the phase is exhausted).
    """
    stmt = select(Read.id).where(phase.candidates, not_(held_clause(phase.sparing(session))))
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
    """Destroy every read that :func:`is_destroyable` condemns at `now`, and its pictures.

    On PostgreSQL it first keeps the day partitions :data:`~app.reads.partitions.DAYS_AHEAD`
    days ahead, then swaps out each day partition past the cutoff (:func:`destroy_day`), one
    transaction a day. Then two phases of row deletions, each walking an index with a keyset
    cursor so held rows are skipped once rather than rescanned: reads past the cutoff that no
    hold keeps (``captured_at`` index), then reads whose ACP destruction was deferred and that
    no hold in force keeps any longer (a closed case's holds do not: 425.5(b) defers for an
    active matter). First of all, the closed cases whose records-retention schedule ended by
    `now` lapse to the 60-day rule (:func:`lapse_ended_schedules`, committed on its own).
    The holds are reloaded for every day and batch, so a hold
    placed or released during a long run counts from the next one on. Each day or batch commits
    its deletes, its tombstones, its PurgeRun counters and one READS_PURGED audit entry
    together; files are removed after the commit.

    `after_commit(step)` is called between a day's or batch's commit and its file removal
    (tests inject a crash there). Leftover tombstones of an earlier, interrupted run are
    finished first. The run ends with one PURGE_COMPLETED entry of its totals, files removed
    included, even when it destroyed nothing.
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
    with session_factory() as session:
        lapsed = lapse_ended_schedules(session, actor, local_today(now))  # type: ignore[arg-type]
        session.commit()
    result.schedules_lapsed = lapsed

    def settle(deleted: Deleted) -> None:
        """Count a committed day or batch, then remove the files it left unused."""
        result.batches += 1
        result.reads_destroyed += deleted.reads
        result.images_destroyed += deleted.images
        result.acp_deferred_destroyed += deleted.acp_deferred
        if after_commit is not None:
            after_commit(result.batches)
        result.files_removed += finish_tombstones(session_factory, set(deleted.orphans))

    for day in _partitioned_days(session_factory, now, cutoff):
        with session_factory() as session:
            try:
                deleted = destroy_day(session, session.get_one(PurgeRun, run_id), actor, day)
                session.commit()
            except OperationalError as exc:
                session.rollback()
                log.warning("reads of %s not swapped out (%s): left to the batches", day, exc.orig)
                continue
        if deleted is not None:
            result.days += 1
            settle(deleted)

    phases = (
        _Phase("expired", Read.captured_at < cutoff, Read.captured_at, scopes_keeping),
        _Phase(
            "acp_deferred",
            Read.acp_deferred_at.is_not(None),
            Read.acp_deferred_at,
            scopes_in_force,
        ),
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
            settle(deleted)
            if cursor is None:
                break

    with session_factory() as session:
        result.acp_digests_forgotten = forget_destroyed_before(session, cutoff)
        run = session.get_one(PurgeRun, run_id)
        run.finished_at = utcnow()
        record(session, actor, AuditAction.PURGE_COMPLETED, run, result.as_dict())  # type: ignore[arg-type]
        session.commit()
    return result


def _partitioned_days(
    session_factory: SessionFactory, now: datetime, cutoff: datetime
) -> list[date]:
    """On PostgreSQL: make the coming days' partitions, and list the days past `cutoff`."""
    with session_factory() as session:
        if not is_partitioned(session):
            return []
        maintain_partitions(session, now.astimezone(UTC).date())
        session.commit()
        return expired_days(session, cutoff)
