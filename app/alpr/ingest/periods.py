"""Periods of active use (425.5.1): each device read placed in one, counted in it as it arrives.

A read less than the gap from a period of its device (at the same fixed location) extends it,
else opens a new one; a late read that brings two periods within the gap joins them. Counts
are added at ingest and never recomputed from reads, which the purge destroys. The JSON ingest
(:mod:`app.alpr.ingest.batch`) and the image upload, OCR and review steps
(:mod:`app.alpr.image_reads`) all place and count through these functions, under
:func:`lock_device`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.alpr.devices import deployment_in_force, device_event_recorded
from app.alpr.hotlists import LOG_CATEGORY, sources_json
from app.alpr.ingest.validation import IngestRefused
from app.audit.actions import AuditAction
from app.audit.services import record
from app.core.timeutil import local_today
from app.reads.models import ActiveUsePeriod, Deployment, Device, DeviceKind, Read


def device_actor(device: Device) -> str:
    """The audit label of a camera (devices are not users)."""
    return f"device:{device.serial}"


def _deployments_for(
    session: Session, device: Device, times: Iterable[datetime]
) -> dict[date, Deployment]:
    """Where a fixed device stood on each local date of the reads; refuses unknown locations.

    A fixed camera's reads need a recorded location: the log of use names it and every new
    fixed location is a BCA notice (425.4.1(d), 425.5.1(d)).
    """
    located: dict[date, Deployment] = {}
    for day in sorted({local_today(at) for at in times}):
        deployment = deployment_in_force(session, device.id, day)
        if deployment is None:
            raise IngestRefused(
                409,
                f"fixed device {device.serial} has no deployment in force on {day.isoformat()}: "
                "an administrator must record its location before it sends reads",
            )
        located[day] = deployment
    return located


def lock_device(session: Session, device_id: int) -> None:
    """Serialise every writer of a device's periods of active use until the commit.

    Ingest batches, image uploads and the OCR and review steps that count late hits all take
    this row lock before they read a period, so no count is lost to a concurrent update, and
    before their first audit append, so that no two writers take the locks in opposite order.
    """
    session.execute(select(Device.id).where(Device.id == device_id).with_for_update())


def place_in_periods(
    session: Session, device: Device, times: Sequence[datetime], *, gap_minutes: int
) -> list[ActiveUsePeriod]:
    """The period of active use (425.5.1) of each read captured at `times`, in that order.

    A read less than `gap_minutes` from a period of the device (at the same fixed location)
    extends it, else it opens a new one. The caller holds :func:`lock_device`. New periods are
    flushed, so they have ids; a period only extended is written with its counts by
    :func:`count_in_periods`. Counts nothing: :func:`count_in_periods` does once the reads are
    known to be new. Raises :class:`IngestRefused` (409) for a fixed device with no deployment
    in force on a read's date.
    """
    if not times:
        return []
    located = (
        _deployments_for(session, device, times) if device.kind == DeviceKind.FIXED.value else {}
    )
    gap = timedelta(minutes=gap_minutes)
    nearby = list(
        session.scalars(
            select(ActiveUsePeriod)
            .where(
                ActiveUsePeriod.device_id == device.id,
                ActiveUsePeriod.ended_at > min(times) - gap,
                ActiveUsePeriod.started_at < max(times) + gap,
            )
            .order_by(ActiveUsePeriod.started_at)
        )
    )
    spans = [_Span(p, p.deployment_id, p.started_at, p.ended_at) for p in nearby]
    placed: list[ActiveUsePeriod | None] = [None] * len(times)
    for position in sorted(range(len(times)), key=times.__getitem__):
        at = times[position]
        deployment = located[local_today(at)] if located else None
        placed[position] = _place(session, device, spans, gap, at, deployment)
    spans, absorbed = _join_bridged(spans, gap)
    for span in spans:
        if span.period.started_at != span.start:
            span.period.started_at = span.start
        if span.period.ended_at != span.end:
            span.period.ended_at = span.end
    for gone in absorbed:
        if gone.period.id is None:
            session.expunge(gone.period)
    if any(span.period.id is None for span in spans):
        session.flush()
    for gone in absorbed:
        if gone.period.id is not None:
            _absorb_period(session, device, gone.period, gone.into)
    survivor = {id(gone.period): gone.into for gone in absorbed}
    return [survivor.get(id(p), p) for p in placed]  # type: ignore[misc,arg-type]


@dataclass(slots=True)
class _Span:
    """A period's bounds while a batch is placed, written back to the row once at the end."""

    period: ActiveUsePeriod
    deployment_id: int | None
    start: datetime
    end: datetime


@dataclass(slots=True)
class _Absorbed:
    """A period that reads of this batch joined to an earlier one: its counts move `into` it."""

    period: ActiveUsePeriod
    into: ActiveUsePeriod


def _join_bridged(spans: list[_Span], gap: timedelta) -> tuple[list[_Span], list[_Absorbed]]:
    """Join periods that the batch's reads brought within the gap of each other.

    A late read can fall between two periods less than the gap from each: they are then one
    period of active use. A period already stored outlives one this batch opened, so that as
    few reads as possible change period.
    """
    kept: list[_Span] = []
    absorbed: list[_Absorbed] = []
    for span in sorted(spans, key=lambda s: (s.deployment_id or 0, s.start)):
        last = kept[-1] if kept else None
        if last is None or last.deployment_id != span.deployment_id or span.start - last.end >= gap:
            kept.append(span)
            continue
        if last.period.id is None and span.period.id is not None:
            last.period, span.period = span.period, last.period
        last.end = max(last.end, span.end)
        for gone in absorbed:
            if gone.into is span.period:
                gone.into = last.period
        absorbed.append(_Absorbed(span.period, last.period))
    return kept, absorbed


def _absorb_period(
    session: Session, device: Device, gone: ActiveUsePeriod, into: ActiveUsePeriod
) -> None:
    """Move a stored period's counts and reads into the period it joined, and delete it.

    The counts are added, never recomputed: the reads they count may have been destroyed.
    """
    into.plates_read += gone.plates_read
    into.sources_compared = sources_json(
        [*json.loads(into.sources_compared or "[]"), *json.loads(gone.sources_compared or "[]")]
    )
    for column in {f"hits_{category}" for category in LOG_CATEGORY.values()}:
        setattr(into, column, getattr(into, column) + getattr(gone, column))
    session.flush()
    session.execute(
        update(Read)
        .where(Read.active_use_period_id == gone.id)
        .values(active_use_period_id=into.id)
        .execution_options(synchronize_session=False)
    )
    record(
        session,
        device_actor(device),
        AuditAction.ACTIVE_USE_PERIODS_JOINED,
        into,
        {
            "joined_period_id": gone.id,
            "started_at": into.started_at.isoformat(),
            "ended_at": into.ended_at.isoformat(),
            "plates_read": into.plates_read,
        },
    )
    session.delete(gone)
    session.flush()


def _place(
    session: Session,
    device: Device,
    spans: list[_Span],
    gap: timedelta,
    at: datetime,
    deployment: Deployment | None,
) -> ActiveUsePeriod:
    """Extend the period `at` falls into (within the gap), or open a new one."""
    deployment_id = deployment.id if deployment else None
    for span in spans:
        if span.deployment_id == deployment_id and span.start - gap < at < span.end + gap:
            if at < span.start:
                span.start = at
            elif at > span.end:
                span.end = at
            return span.period
    period = ActiveUsePeriod(
        device_id=device.id,
        deployment_id=deployment_id,
        location_name=deployment.location_name if deployment else None,
        started_at=at,
        ended_at=at,
        plates_read=0,
        sources_compared="[]",
        hits_stolen=0,
        hits_warrant=0,
        hits_suspended_revoked=0,
        hits_investigative=0,
    )
    session.add(period)
    spans.append(_Span(period, deployment_id, at, at))
    return period


def count_in_periods(
    session: Session,
    *,
    reads: Iterable[ActiveUsePeriod] = (),
    hits: Iterable[tuple[ActiveUsePeriod, str]] = (),
    compared: Sequence[str] = (),
) -> None:
    """Add to the public log of use (425.5.1(b)-(c)): the one place its counts grow.

    `reads` holds one period per plate read (a read counts when it is collected, even before
    OCR knows its plate, and even when an ACP request destroys it at once); `hits` one
    (period, log category) pair per plate found on a list, whenever that happens (at ingest,
    after OCR, after a review); `compared` the lists consulted, added to every period touched.
    Counts are added, never recomputed from reads, which the purge destroys. The caller holds
    :func:`lock_device`. Flushes.
    """
    touched: dict[int, ActiveUsePeriod] = {}
    read_counts: Counter[int] = Counter()
    for period in reads:
        read_counts[id(period)] += 1
        touched[id(period)] = period
    for key, count in read_counts.items():
        touched[key].plates_read += count
    for period, category in hits:
        column = f"hits_{category}"
        setattr(period, column, getattr(period, column) + 1)
        touched[id(period)] = period
    if compared:
        for period in touched.values():
            before = json.loads(period.sources_compared or "[]")
            merged = sources_json([*before, *compared])
            if merged != period.sources_compared:
                period.sources_compared = merged
    session.flush()


def note_device_use(
    session: Session, device: Device, captured: Sequence[datetime], now: datetime
) -> None:
    """Keep last-seen current and the device's first use exact (a BCA-notice event, 425.4.1(d)).

    Every read a camera sends counts, by JSON or as pictures only. The first one records
    DEVICE_FIRST_USE; a read that arrives later but was captured earlier moves the date back,
    audited as a correction. Either change sends ``device_event_recorded`` (its BCA notice).
    """
    device.last_seen_at = now
    if not captured:
        return
    earliest = min(captured)
    if device.first_used_at is None:
        device.first_used_at = earliest
        session.flush()
        record(
            session,
            device_actor(device),
            AuditAction.DEVICE_FIRST_USE,
            device,
            {"serial": device.serial, "first_used_at": earliest.isoformat()},
        )
    elif earliest < device.first_used_at:
        before = device.first_used_at
        device.first_used_at = earliest
        session.flush()
        record(
            session,
            device_actor(device),
            AuditAction.DEVICE_UPDATED,
            device,
            {
                "serial": device.serial,
                "changes": {"first_used_at": [before.isoformat(), earliest.isoformat()]},
                "reason": "a read captured before the recorded first use arrived late",
            },
        )
    else:
        return
    device_event_recorded.send(device, session=session)
