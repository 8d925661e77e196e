"""Day partitions of ``reads`` on PostgreSQL, so that a day past retention can leave whole.

Deleting reads row by row costs a foreign-key trigger call per read and per child table (the
pictures and hits refer to their read), about 10 s per million reads on a small server; the
statute's 60-day clock destroys every read, so that cost is paid on all of them. With
``reads`` partitioned by UTC collection day, the purge (:mod:`app.retention.purge_days`)
detaches and drops a day that retention has run out on, after copying the few reads a hold
keeps into its replacement: the cost follows the held rows, not the day's size.

Layout: one partition per UTC day, named ``reads_pYYYYMMDD``, plus ``reads_default`` for any
row whose day has no partition yet (so an insert never fails for want of one; the purge's
row-by-row path covers those rows). The migration creates the partitions of the retention
window and the next :data:`DAYS_AHEAD` days; the daily purge keeps them
:data:`DAYS_AHEAD` days ahead (:func:`maintain_partitions`). SQLite keeps one plain table and
none of this applies there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: Days of partitions kept ready beyond today, so a day's first read never waits for one.
DAYS_AHEAD = 14
DEFAULT_PARTITION = "reads_default"
_DAY_PARTITION = re.compile(r"^reads_p(\d{8})$")
#: pg_advisory_xact_lock key serialising partition creation and the purge's day swaps.
PARTITION_LOCK_KEY = 425_0501
_CHECK_VIOLATION = "23514"


def partition_name(day: date) -> str:
    """The table holding the reads collected on UTC `day`."""
    return f"reads_p{day:%Y%m%d}"


def is_partition_table(name: str) -> bool:
    """Whether `name` is one of the partitions (Alembic leaves them out of its comparison)."""
    return name == DEFAULT_PARTITION or _DAY_PARTITION.match(name) is not None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of `day`: one partition's range."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def is_partitioned(session: Session) -> bool:
    """Whether this database keeps ``reads`` in day partitions (PostgreSQL after the migration)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    kind = session.scalar(text("SELECT relkind FROM pg_class WHERE oid = to_regclass('reads')"))
    return kind == "p"


def day_partitions(session: Session) -> list[date]:
    """The days that have a partition of their own, oldest first."""
    names = session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass('reads')"
        )
    )
    days = []
    for name in names:
        match = _DAY_PARTITION.match(name)
        if match:
            days.append(date.fromisoformat(match.group(1)))
    return sorted(days)


def lock_partitions(session: Session) -> None:
    """Serialise whoever creates, swaps or drops partitions until the transaction ends."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PARTITION_LOCK_KEY})


def create_table_like_reads(session: Session, name: str) -> None:
    """A plain table shaped like ``reads`` (columns, defaults, checks), ready to be attached."""
    session.execute(
        text(f'CREATE TABLE "{name}" (LIKE reads INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
    )


def attach_day(session: Session, name: str, day: date) -> None:
    """Attach table `name` as the partition of `day`.

    Locks ``reads`` only in SHARE UPDATE EXCLUSIVE mode (reads and writes go on), where
    ``CREATE TABLE ... PARTITION OF`` would take ACCESS EXCLUSIVE.
    """
    start, end = day_bounds(day)
    session.execute(
        text(
            f'ALTER TABLE reads ATTACH PARTITION "{name}" '
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
    )


def create_day_partitions(session: Session, days: Iterable[date]) -> list[date]:
    """Create the missing partitions of `days`; returns the days created. Flushes, never commits.

    Each is made as a plain table and then attached (:func:`attach_day`). A day that already
    has rows in ``reads_default`` cannot get a partition
    without moving them; it is skipped with a warning and its rows stay where they are (the
    purge's row-by-row path destroys them on time all the same).
    """
    lock_partitions(session)
    existing = set(day_partitions(session))
    created = []
    for day in sorted(set(days) - existing):
        name = partition_name(day)
        savepoint = session.begin_nested()
        try:
            create_table_like_reads(session, name)
            attach_day(session, name, day)
            savepoint.commit()
        except DBAPIError as exc:
            savepoint.rollback()
            if getattr(exc.orig, "sqlstate", None) != _CHECK_VIOLATION:
                raise
            log.warning(
                "reads of %s are in %s: no partition made for that day", day, DEFAULT_PARTITION
            )
            continue
        created.append(day)
    return created


def maintain_partitions(session: Session, today: date, ahead: int = DAYS_AHEAD) -> list[date]:
    """Make sure today and the next `ahead` days have partitions; returns the days created."""
    return create_day_partitions(session, (today + timedelta(days=n) for n in range(ahead + 1)))
