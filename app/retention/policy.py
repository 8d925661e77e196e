"""The retention rule of policy 425.5 in one place, free of any database or Flask state.

The purge's SQL (:mod:`app.retention.purge`), the ACP screen at collection
(:mod:`app.retention.acp.screening`) and the dashboard's compliance line all implement this rule; a
property test runs the real purge against :func:`is_destroyable` to keep them in agreement.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

#: When the daily purge runs (cron, UTC): just after 00:00 UTC, when a whole collection day
#: becomes destroyable, a day before its oldest read would turn 60 days old
#: (:func:`retention_cutoff`): the oldest unheld read stays under 60 × 24 hours even if one run
#: is late by most of a day.
PURGE_CRON = "5 0 * * *"


@dataclass(frozen=True, slots=True)
class ReadFacts:
    """What the rule needs to know about one read (stored or arriving at ingest).

    ``plate`` is the normalised plate as stored (None while an image waits for OCR).
    """

    plate: str | None
    captured_at: datetime
    device_id: int | None = None


@dataclass(frozen=True, slots=True)
class HoldScope:
    """A hold's scope: a bounded window, narrowed by plates and/or devices when listed."""

    window_start: datetime
    window_end: datetime
    plates: frozenset[str] = field(default_factory=frozenset)
    device_ids: frozenset[int] = field(default_factory=frozenset)


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """Reads captured before this instant (a UTC midnight) have reached the end of retention.

    Retention runs by UTC collection day, and a day's reads all go on the day BEFORE its first
    read turns `retention_days` old: at 00:00 UTC that day they become destroyable, and the
    daily purge (00:05 UTC) takes them. So the oldest unheld read is at most
    `retention_days` - 1 days and the purge's own delay old, never `retention_days` × 24 hours,
    even if one daily run is late by most of a day. Destroying a little early is lawful (425.5
    says "no later than"); late is not. The purge takes whole days, which PostgreSQL drops as
    partitions (app.reads.partitions).
    """
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=retention_days - 2)


def hold_covers(read: ReadFacts, hold: HoldScope) -> bool:
    """Whether `read` falls inside `hold`'s scope (window bounds inclusive).

    A read whose plate is not yet known is covered only by a hold that lists no plates: a plate
    list names what to keep, and an unread plate cannot be shown to be one of them.
    """
    if not hold.window_start <= read.captured_at <= hold.window_end:
        return False
    if hold.plates and (read.plate is None or read.plate not in hold.plates):
        return False
    return not hold.device_ids or (read.device_id is not None and read.device_id in hold.device_ids)


def is_held(read: ReadFacts, holds: Collection[HoldScope]) -> bool:
    """Whether any of `holds` (the holds in force) keeps `read`: it is tied to an active matter."""
    return any(hold_covers(read, hold) for hold in holds)


def is_destroyable(
    read: ReadFacts,
    holds: Sequence[HoldScope],
    now: datetime,
    *,
    retention_days: int,
    acp_suppressed: bool = False,
    deferring: Sequence[HoldScope] | None = None,
) -> bool:
    """Whether `read` must be destroyed now (425.5).

    `holds` are the holds that keep data from the 60-day rule: those in force (an active
    investigation's, a received or active exculpatory request's) and those of a closed case
    awaiting its disposition or kept under the records-retention schedule. A read goes once
    its retention has run out (captured before :func:`retention_cutoff`) unless one of them
    covers it. It goes at once when `acp_suppressed` (its plate belongs to an ACP participant
    whose request is in force, or its ACP destruction was deferred earlier) unless a hold in
    force covers it: `deferring`, only an active matter's (425.5(b)); `holds` when not given.
    """
    if acp_suppressed:
        return not is_held(read, holds if deferring is None else deferring)
    return not is_held(read, holds) and read.captured_at < retention_cutoff(now, retention_days)
