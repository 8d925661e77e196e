"""Storing a validated batch of plate reads: a device's JSON batch, or another agency's file.

The batch has passed :mod:`app.alpr.ingest.validation` whole. It is stored in one transaction
with few statements, whatever its size, by the steps :func:`ingest_reads` names:

1. the ACP screen (:func:`app.retention.acp.screening.decide_at_collection`) runs once: a suppressed
   plate is not stored (``destroyed_acp``, counted in the log of use only; a keyed digest
   without the plate makes its resend known), or is stored with ``acp_deferred_at`` when a hold
   in force covers it; resends of either are found first and counted nowhere;
2. the reads go in with one bulk ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (an array per
   column on PostgreSQL, SQLAlchemy's insertmanyvalues on SQLite): a read it does not return
   was stored before (a resend) and is answered ``duplicate``, counted nowhere;
3. one ``plate = ANY(...)`` query matches them with the hotlists in force;
4. the device's periods of active use (425.5.1) are extended or opened incrementally
   (:mod:`app.alpr.ingest.periods`): counts are added at ingest and never recomputed from
   reads, which the purge destroys;
5. last, because the audit append serialises all writers until the commit: each match becomes a
   Hit with its own HIT_CREATED entry (hits are rare; a hit's history page reads them), and one
   READS_INGESTED (or READS_IMPORTED) entry records the batch's counts, never plates; all of
   them in one append (:func:`app.audit.services.record_many`), with the entries of whatever
   the caller attached to the stored reads (their pictures: ``attach``).

An image-only read (:mod:`app.alpr.image_reads`) is placed and counted by the same public
functions when it arrives, and its hits when OCR or a reviewer gives it a plate.

A device's batches are serialised on its row (``SELECT ... FOR UPDATE``, taken first, before
any audit append) until the commit, so periods stay exact when a camera sends several batches
at once, and the device lock is always taken before the audit chain's.

On PostgreSQL the set-at-a-time statements bind arrays (``unnest``, ``= ANY``): see
:mod:`app.reads.bulk` for why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.alpr.hotlists import HotlistMatch, create_hits, find_matches, log_hits, sources_in_force
from app.alpr.ingest.periods import (
    count_in_periods,
    device_actor,
    lock_device,
    note_device_use,
    place_in_periods,
)
from app.alpr.ingest.store import already_stored, dedupe_key, insert_reads
from app.alpr.ingest.validation import ReadIn
from app.audit.actions import AuditAction
from app.audit.services import PendingEntry, record_many
from app.auth.models import Agency
from app.db import utcnow
from app.reads.models import ActiveUsePeriod, Device
from app.retention.acp.digests import (
    known_destroyed,
    read_identity,
    read_sender,
    remember_destroyed,
)
from app.retention.acp.screening import AcpVerdict, decide_at_collection
from app.retention.policy import ReadFacts


@dataclass
class IngestResult:
    """Per-read outcomes (stored, duplicate, destroyed_acp) and the batch's counts."""

    outcomes: list[dict[str, Any]]
    counts: Counter[str] = field(default_factory=Counter)
    period_ids: list[int] = field(default_factory=list)


@dataclass
class _Batch:
    """One batch on its way in: who sent it, when, and each read's outcome so far (by index)."""

    device: Device | None
    agency: Agency | None
    now: datetime
    outcomes: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def device_id(self) -> int | None:
        return self.device.id if self.device is not None else None

    @property
    def agency_id(self) -> int | None:
        return self.agency.id if self.agency is not None else None

    def duplicate(self, read: ReadIn) -> None:
        self.outcomes[read.index] = {"outcome": "duplicate"}


def ingest_reads(
    session: Session,
    actor: Any,
    reads: Sequence[ReadIn],
    *,
    device: Device | None = None,
    agency: Agency | None = None,
    gap_minutes: int = 30,
    attach: Callable[[list[tuple[ReadIn, int]]], Sequence[PendingEntry]] | None = None,
) -> IngestResult:
    """Store validated reads from a device (or another agency's, 425.5), match, count, audit.

    Exactly one of `device` / `agency` is given. Another agency's reads have no period of active
    use (the log of use is about this department's cameras). Raises
    :class:`app.alpr.ingest.validation.IngestRefused` (409) when a fixed device has no
    deployment in force. `attach`, given each stored read with its new id, adds what comes
    with them (a device's pictures) before the audit lock is taken, and returns its entries
    for the batch's one append. Flushes; the caller commits.
    """
    if (device is None) == (agency is None):
        raise ValueError("ingest_reads needs exactly one of device or agency")
    batch = _Batch(device, agency, utcnow())
    fresh = _drop_repeats_within(batch, reads)
    if device is not None:
        # Device row first, audit chain after (the ACP screen may append): every writer of a
        # device's periods takes the two in this order (lock_device).
        lock_device(session, device.id)
    fresh, verdicts, acp_entry = _screen_for_acp(session, batch, fresh)
    period_of: dict[int, ActiveUsePeriod] = {}
    if device is not None:
        placed = place_in_periods(
            session, device, [r.captured_at for r in fresh], gap_minutes=gap_minutes
        )
        period_of = {r.index: p for r, p in zip(fresh, placed, strict=True)}
    used, deferred = _drop_destroyed(batch, fresh, verdicts)
    stored = _insert(session, batch, used, period_of, deferred)
    attached = list(attach(stored)) if attach is not None and stored else []
    with session.no_autoflush:  # the periods are written once, with their counts, below
        sources = sources_in_force(session)
        matches = find_matches(session, [(i, r.captured_at, r.plate) for r, i in stored], sources)
    if device is not None:
        # Counts first, audit last: the audit append serialises every writer until the commit
        # (app.audit.services), so nothing else may run between the first append and it.
        _count_device_use(session, device, batch, fresh, stored, period_of, matches, sources)
    label = device_actor(device) if device is not None else actor
    hit_pairs, hit_entries = create_hits(session, label, matches)
    ordered = _ordered_outcomes(batch, reads)
    counts = Counter(item["outcome"] for item in ordered)
    counts["deferred_acp"] = len(deferred & {r.index for r, _ in stored})
    counts["hits"] = len(hit_pairs)
    period_ids = sorted({p.id for p in period_of.values()})
    batch_entry = _batch_entry(actor, batch, len(reads), counts, period_ids)
    record_many(
        session, [*([acp_entry] if acp_entry else []), *hit_entries, batch_entry, *attached]
    )
    return IngestResult(ordered, counts, period_ids)


def _drop_repeats_within(batch: _Batch, reads: Sequence[ReadIn]) -> list[ReadIn]:
    """The batch without a read's second copy in it (answered ``duplicate``)."""
    fresh: list[ReadIn] = []
    seen: set[tuple[Any, ...]] = set()
    for read in reads:
        key = dedupe_key(read)
        if key in seen:
            batch.duplicate(read)
        else:
            seen.add(key)
            fresh.append(read)
    return fresh


def _screen_for_acp(
    session: Session, batch: _Batch, fresh: list[ReadIn]
) -> tuple[list[ReadIn], dict[int, AcpVerdict], PendingEntry | None]:
    """Screen the reads against ACP requests; the reads left, each one's verdict, the entry.

    A resend is found by the insert's ON CONFLICT; but the ACP screen counts what it destroys
    or defers before that, so its reads' resends are found first and counted nowhere: a read
    stored before (deferred, or stored before its plate's suppression began) by lookup, one
    destroyed at collection before by its keyed digest (app.retention.acp.digests.known_destroyed).
    The digests of the reads destroyed now are remembered for their resends.
    """
    screening = decide_at_collection(
        session, [ReadFacts(r.plate, r.captured_at, batch.device_id) for r in fresh]
    )
    verdicts = dict(zip((r.index for r in fresh), screening.verdicts, strict=True))
    screened = [r for r in fresh if verdicts[r.index] is not AcpVerdict.KEEP]
    sender = read_sender(batch.device_id, batch.agency_id)
    identity = {
        r.index: read_identity(sender, r.client_read_id, r.plate, r.captured_at) for r in screened
    }
    if screened:
        stored_before = already_stored(session, screened, batch.device, batch.agency)
        doomed = [r for r in screened if verdicts[r.index] is AcpVerdict.DESTROY]
        destroyed_before = known_destroyed(session, [identity[r.index] for r in doomed])
        for read in screened:
            if dedupe_key(read) in stored_before or identity[read.index] in destroyed_before:
                batch.duplicate(read)
    position = {r.index: n for n, r in enumerate(fresh)}
    resent = {position[i] for i in batch.outcomes if i in position}
    acp_entry = screening.count(session, resent=resent)
    fresh = [r for r in fresh if r.index not in batch.outcomes]
    remember_destroyed(
        session,
        (
            (identity[r.index], r.captured_at)
            for r in fresh
            if verdicts[r.index] is AcpVerdict.DESTROY
        ),
    )
    return fresh, verdicts, acp_entry


def _drop_destroyed(
    batch: _Batch, fresh: list[ReadIn], verdicts: dict[int, AcpVerdict]
) -> tuple[list[ReadIn], set[int]]:
    """The reads to store, and which of them (by index) are stored with destruction deferred.

    A read the screen destroys is answered ``destroyed_acp`` and never stored.
    """
    used: list[ReadIn] = []
    deferred: set[int] = set()
    for read in fresh:
        verdict = verdicts[read.index]
        if verdict is AcpVerdict.DESTROY:
            batch.outcomes[read.index] = {"outcome": "destroyed_acp"}
        else:
            used.append(read)
            if verdict is AcpVerdict.DEFER:
                deferred.add(read.index)
    return used, deferred


def _insert(
    session: Session,
    batch: _Batch,
    used: list[ReadIn],
    period_of: dict[int, ActiveUsePeriod],
    deferred: set[int],
) -> list[tuple[ReadIn, int]]:
    """Insert the reads; each stored read with its new id.

    A read the insert does not return lost the race to a concurrent resend: it is a
    ``duplicate``, and leaves its period (it is counted nowhere).
    """
    new_ids = insert_reads(
        session,
        used,
        device_id=batch.device_id,
        agency_id=batch.agency_id,
        periods={i: p.id for i, p in period_of.items()},
        deferred=deferred,
        now=batch.now,
    )
    stored: list[tuple[ReadIn, int]] = []
    for read in used:
        read_id = new_ids.get(dedupe_key(read))
        if read_id is None:  # a concurrent resend won the race
            batch.duplicate(read)
            period_of.pop(read.index, None)
        else:
            batch.outcomes[read.index] = {"outcome": "stored", "read_id": read_id}
            stored.append((read, read_id))
    return stored


def _count_device_use(
    session: Session,
    device: Device,
    batch: _Batch,
    fresh: list[ReadIn],
    stored: list[tuple[ReadIn, int]],
    period_of: dict[int, ActiveUsePeriod],
    matches: list[HotlistMatch],
    sources: dict[int, str],
) -> None:
    """Note the device's use and add the batch's reads and hits to its periods' counts."""
    index_of = {read_id: read.index for read, read_id in stored}
    note_device_use(
        session, device, [r.captured_at for r in fresh if r.index in period_of], batch.now
    )
    count_in_periods(
        session,
        reads=period_of.values(),
        hits=[(period_of[index_of[m.read_id]], category) for m, category in log_hits(matches)],
        compared=sorted(sources.values()),
    )


def _ordered_outcomes(batch: _Batch, reads: Sequence[ReadIn]) -> list[dict[str, Any]]:
    """Each read's outcome in the order sent, naming its client id when it has one."""
    ordered = [{"index": r.index, **batch.outcomes[r.index]} for r in reads]
    for item, read in zip(ordered, reads, strict=True):
        if read.client_read_id:
            item["client_read_id"] = read.client_read_id
    return ordered


def _batch_entry(
    actor: Any, batch: _Batch, received: int, counts: Counter[str], period_ids: list[int]
) -> PendingEntry:
    """The batch's READS_INGESTED (a device's) or READS_IMPORTED (an agency's) entry: counts."""
    return PendingEntry(
        actor,
        AuditAction.READS_INGESTED if batch.device is not None else AuditAction.READS_IMPORTED,
        batch.device if batch.device is not None else batch.agency,
        {
            "received": received,
            "stored": counts["stored"],
            "duplicate": counts["duplicate"],
            "destroyed_acp": counts["destroyed_acp"],
            "deferred_acp": counts["deferred_acp"],
            "hits": counts["hits"],
            "active_use_periods": period_ids,
        },
    )
