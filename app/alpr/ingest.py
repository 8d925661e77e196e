"""Ingest of plate reads: a device's JSON batch, or a file of reads from another agency.

Validation is all-or-nothing. A batch with any structural error (unknown field, wrong type,
missing field) or any invalid value (plate, time, coordinates) is refused whole with one error
per offending read, and nothing is stored: a camera resends a corrected batch, and a half-
stored batch would leave it guessing which reads made it. Unknown fields are named, because
425.4.1(a) limits what a read may hold.

A valid batch is stored in one transaction with few statements, whatever its size:

1. the ACP screen (:func:`app.retention.acp.decide_at_collection`) runs once: a suppressed
   plate is not stored (``destroyed_acp``, counted in the log of use only; a keyed digest
   without the plate makes its resend known), or is stored with ``acp_deferred_at`` when a hold
   in force covers it; resends of either are found first and counted nowhere;
2. the reads go in with one bulk ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (an array per
   column on PostgreSQL, SQLAlchemy's insertmanyvalues on SQLite): a read it does not return
   was stored before (a resend) and is answered ``duplicate``, counted nowhere;
3. one ``plate = ANY(...)`` query matches them with the hotlists in force;
4. the device's periods of active use (425.5.1) are extended or opened incrementally
   (:func:`place_in_periods`, :func:`count_in_periods`): counts are added at ingest and never
   recomputed from reads, which the purge destroys;
5. last, because the audit append serialises all writers until the commit: each match becomes a
   Hit with its own HIT_CREATED entry (hits are rare; a hit's history page reads them), and one
   READS_INGESTED (or READS_IMPORTED) entry records the batch's counts, never plates; all of
   them in one append (:func:`app.audit.services.record_many`).

An image-only read (:mod:`app.alpr.image_reads`) is placed and counted by the same public
functions when it arrives, and its hits when OCR or a reviewer gives it a plate.

A device's batches are serialised on its row (``SELECT ... FOR UPDATE``, taken first, before
any audit append) until the commit, so periods stay exact when a camera sends several batches
at once, and the device lock is always taken before the audit chain's.

On PostgreSQL the set-at-a-time statements bind arrays (``unnest``, ``= ANY``): see
:mod:`app.reads.bulk` for why.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from app.alpr.devices import deployment_in_force
from app.alpr.hotlists import (
    LOG_CATEGORY,
    create_hits,
    find_matches,
    log_hits,
    sources_in_force,
    sources_json,
)
from app.alpr.validation import (
    READ_FIELDS,
    captured_at_parser,
    parse_client_read_id,
    parse_coordinate,
)
from app.audit.actions import AuditAction
from app.audit.services import PendingEntry, record, record_many
from app.auth.models import Agency
from app.core.timeutil import local_today
from app.db import utcnow
from app.reads.bulk import on_postgresql
from app.reads.models import (
    ActiveUsePeriod,
    Deployment,
    Device,
    DeviceKind,
    PlateStatus,
    Read,
)
from app.reads.plates import FieldError, normalise_plate
from app.retention.acp import (
    AcpVerdict,
    decide_at_collection,
    known_destroyed,
    read_identity,
    read_sender,
    remember_destroyed,
)
from app.retention.policy import ReadFacts

REQUIRED_FIELDS = ("plate", "captured_at", "latitude", "longitude")
BATCH_FIELDS = frozenset({"reads"})


class IngestRefused(ValueError):
    """The batch is refused whole; `status` is the HTTP status, `errors` one entry per read."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []


@dataclass(frozen=True)
class ReadIn:
    """One validated read, normalised, with its position in the batch."""

    index: int
    plate: str
    captured_at: datetime
    latitude: float
    longitude: float
    client_read_id: str | None = None


@dataclass
class IngestResult:
    """Per-read outcomes (stored, duplicate, destroyed_acp) and the batch's counts."""

    outcomes: list[dict[str, Any]]
    counts: Counter[str] = field(default_factory=Counter)
    period_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Limits:
    """The configured bounds a batch is checked against (from app.config)."""

    max_batch: int
    clock_skew_seconds: int
    retention_days: int

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        """Read the bounds from a Flask config mapping."""
        return cls(
            max_batch=config["INGEST_MAX_BATCH"],
            clock_skew_seconds=config["CLOCK_SKEW_SECONDS"],
            retention_days=config["RETENTION_DAYS"],
        )


def _check_types(item: dict[str, Any], text_values: bool) -> list[str]:
    """Structural problems of one read: missing fields and wrong JSON types."""
    problems = [f"{name}: is required" for name in REQUIRED_FIELDS if item.get(name) is None]
    for name in ("plate", "captured_at"):
        if item.get(name) is not None and not isinstance(item[name], str):
            problems.append(f"{name}: must be a string")
    for name in ("latitude", "longitude"):
        value = item.get(name)
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if value is not None and not numeric and not (text_values and isinstance(value, str)):
            problems.append(f"{name}: must be a number")
    client_id = item.get("client_read_id")
    if client_id is not None and not isinstance(client_id, str):
        problems.append("client_read_id: must be a string")
    return problems


Parser = Callable[[Any], Any]


def _field_parsers(now: datetime, limits: Limits) -> tuple[tuple[str, Parser], ...]:
    """Each read field with its parser, bound to this batch's clock once (not per read)."""
    return (
        ("plate", normalise_plate),
        (
            "captured_at",
            captured_at_parser(
                now=now,
                clock_skew_seconds=limits.clock_skew_seconds,
                retention_days=limits.retention_days,
            ),
        ),
        ("latitude", partial(parse_coordinate, field="latitude")),
        ("longitude", partial(parse_coordinate, field="longitude")),
        ("client_read_id", parse_client_read_id),
    )


def _parse_read(
    index: int, item: dict[str, Any], parsers: tuple[tuple[str, Parser], ...]
) -> tuple[ReadIn | None, list[str]]:
    """The read, or every field's problem (a camera fixes them all in one go)."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, parse in parsers:
        try:
            values[name] = parse(item.get(name))
        except FieldError as exc:
            problems.append(f"{exc.field}: {exc.message}")
    if problems:
        return None, problems
    return ReadIn(index=index, **values), []


def validate_reads(
    items: Sequence[Any], *, now: datetime, limits: Limits, text_values: bool = False
) -> list[ReadIn]:
    """Check every read; any problem refuses the whole batch (422) naming each read's faults.

    `text_values` accepts coordinates written as text (a CSV file); JSON must send numbers.
    """
    if not items:
        raise IngestRefused(422, "the batch is empty: send at least one read")
    if len(items) > limits.max_batch:
        raise IngestRefused(
            413, f"the batch has {len(items)} reads; at most {limits.max_batch} are accepted"
        )
    parsers = _field_parsers(now, limits)
    reads: list[ReadIn] = []
    errors: list[dict[str, Any]] = []
    unknown_fields: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append({"index": index, "errors": ["a read must be a JSON object"]})
            continue
        unknown = sorted(set(item) - READ_FIELDS)
        unknown_fields.update(unknown)
        problems = [f"{name}: field not allowed (policy 425.4.1(a))" for name in unknown]
        problems += _check_types(item, text_values)
        if not problems:
            parsed, problems = _parse_read(index, item, parsers)
            if parsed is not None:
                reads.append(parsed)
                continue
        errors.append({"index": index, "errors": problems})
    if unknown_fields:
        raise IngestRefused(
            422,
            "fields outside policy 425.4.1(a)'s list are not accepted: "
            + ", ".join(sorted(unknown_fields))
            + "; nothing was stored",
            errors,
        )
    if errors:
        raise IngestRefused(
            422, f"{len(errors)} of {len(items)} reads are invalid; nothing was stored", errors
        )
    return reads


def validate_payload(payload: Any, *, now: datetime, limits: Limits) -> list[ReadIn]:
    """The JSON body of ``POST /api/v1/reads``: ``{"reads": [...]}`` and nothing else."""
    if not isinstance(payload, dict):
        raise IngestRefused(400, 'the body must be a JSON object: {"reads": [...]}')
    unknown = sorted(set(payload) - BATCH_FIELDS)
    if unknown:
        raise IngestRefused(
            422, f'fields not accepted: {", ".join(unknown)}; the body holds only "reads"'
        )
    if "reads" not in payload:
        raise IngestRefused(422, '"reads" is required: a list of reads')
    if not isinstance(payload["reads"], list):
        raise IngestRefused(422, '"reads" must be a list of reads')
    return validate_reads(payload["reads"], now=now, limits=limits)


def device_actor(device: Device) -> str:
    """The audit label of a camera (devices are not users)."""
    return f"device:{device.serial}"


# --- storing ------------------------------------------------------------------------------


def _dedupe_key(read: ReadIn) -> tuple[Any, ...]:
    """A resend repeats the read's capture time and its client id, or else its plate."""
    if read.client_read_id:
        return ("c", read.client_read_id, read.captured_at)
    return ("p", read.plate, read.captured_at)


def _already_stored(
    session: Session, reads: Sequence[ReadIn], device: Device | None, agency: Agency | None
) -> set[tuple[Any, ...]]:
    """Keys of `reads` that an earlier batch stored (by client id, else by plate; and time)."""
    with_ids = [r for r in reads if r.client_read_id]
    plain = [r for r in reads if not r.client_read_id]
    if on_postgresql(session):
        return _already_stored_pg(session, with_ids, plain, device, agency)
    if device is not None:
        scope = [Read.device_id == device.id]
    else:
        scope = [Read.device_id.is_(None), Read.source_agency_id == agency.id]  # type: ignore[union-attr]
    found: set[tuple[Any, ...]] = set()
    if with_ids:
        rows = session.execute(
            select(Read.client_read_id, Read.captured_at).where(
                *scope, Read.client_read_id.in_({r.client_read_id for r in with_ids})
            )
        )
        found.update(("c", cid, captured_at) for cid, captured_at in rows)
    if plain:
        rows = session.execute(
            select(Read.plate, Read.captured_at).where(
                *scope,
                Read.client_read_id.is_(None),
                Read.plate.in_({r.plate for r in plain}),
                Read.captured_at.between(
                    min(r.captured_at for r in plain), max(r.captured_at for r in plain)
                ),
            )
        )
        found.update(("p", plate, captured_at) for plate, captured_at in rows)
    return found


def _already_stored_pg(
    session: Session,
    with_ids: Sequence[ReadIn],
    plain: Sequence[ReadIn],
    device: Device | None,
    agency: Agency | None,
) -> set[tuple[Any, ...]]:
    """The PostgreSQL form: join the batch's keys (arrays) to the unique indexes, probe by probe.

    An ``IN``/``ANY`` filter lets the planner scan all of a busy device's reads instead.
    """
    scope = (
        "r.device_id = :owner" if device else "r.device_id IS NULL AND r.source_agency_id = :owner"
    )
    owner = device.id if device else agency.id  # type: ignore[union-attr]
    found: set[tuple[Any, ...]] = set()
    if with_ids:
        rows = session.execute(
            text(
                "SELECT r.client_read_id, r.captured_at FROM unnest(CAST(:ids AS varchar[]), "  # noqa: S608 (scope is one of two constants)
                "CAST(:times AS timestamptz[])) AS u(cid, captured_at) "
                "JOIN reads r ON r.client_read_id = u.cid AND r.captured_at = u.captured_at "
                f"WHERE {scope}"
            ),
            {
                "ids": [r.client_read_id for r in with_ids],
                "times": [r.captured_at for r in with_ids],
                "owner": owner,
            },
        )
        found.update(("c", cid, _utc(captured_at)) for cid, captured_at in rows)
    if plain:
        rows = session.execute(
            text(
                "SELECT r.plate, r.captured_at FROM unnest(CAST(:plates AS varchar[]), "  # noqa: S608
                "CAST(:times AS timestamptz[])) AS u(plate, captured_at) "
                "JOIN reads r ON r.plate = u.plate AND r.captured_at = u.captured_at "
                f"WHERE r.client_read_id IS NULL AND {scope}"
            ),
            {
                "plates": [r.plate for r in plain],
                "times": [r.captured_at for r in plain],
                "owner": owner,
            },
        )
        found.update(("p", plate, _utc(captured_at)) for plate, captured_at in rows)
    return found


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
    audited as a correction.
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


#: The PostgreSQL insert: one array per varying column, so the statement stays short (bulk.py).
_UNNEST_INSERT = """
    INSERT INTO reads (device_id, source_agency_id, plate, captured_at, latitude, longitude,
                       client_read_id, plate_status, active_use_period_id, acp_deferred_at,
                       received_at)
    SELECT CAST(:device_id AS integer), CAST(:source_agency_id AS integer), u.plate,
           u.captured_at, u.latitude, u.longitude, u.client_read_id, :plate_status, u.period_id,
           u.acp_deferred_at, :received_at
    FROM unnest(CAST(:plates AS varchar[]), CAST(:captured AS timestamptz[]),
                CAST(:latitudes AS float8[]), CAST(:longitudes AS float8[]),
                CAST(:client_ids AS varchar[]), CAST(:periods AS integer[]),
                CAST(:deferred AS timestamptz[]))
         AS u(plate, captured_at, latitude, longitude, client_read_id, period_id, acp_deferred_at)
    ON CONFLICT {arbiter} DO NOTHING
    RETURNING id, client_read_id, plate, captured_at
"""
#: The unique key a resend collides with, by (sent by a device, carries a client id). Naming
#: it as the one ON CONFLICT arbiter is cheaper than DO NOTHING on every unique key (measured
#: on PostgreSQL 15: 29 against 39 microseconds a row); the other keys cannot collide there.
_INSERT_BY_KIND = {
    kind: text(_UNNEST_INSERT.format(arbiter=arbiter))
    for kind, arbiter in {
        (True, True): "(device_id, client_read_id, captured_at)",
        (True, False): "(device_id, plate, captured_at) WHERE client_read_id IS NULL",
        (False, True): "(source_agency_id, client_read_id, captured_at) WHERE device_id IS NULL",
        (False, False): "(source_agency_id, plate, captured_at) "
        "WHERE device_id IS NULL AND client_read_id IS NULL",
    }.items()
}


def _insert_reads(
    session: Session,
    reads: Sequence[ReadIn],
    *,
    device_id: int | None,
    agency_id: int | None,
    periods: dict[int, int],
    deferred: set[int],
    now: datetime,
) -> dict[tuple[Any, ...], int]:
    """Bulk insert; returns the new ids by dedupe key (a conflicting row returns nothing).

    PostgreSQL: an ``INSERT ... SELECT FROM unnest(...)`` binding one array per column (see
    :mod:`app.reads.bulk`), one per kind of key (:data:`_INSERT_BY_KIND`). SQLite: a Core
    insertmanyvalues INSERT ... ON CONFLICT DO NOTHING RETURNING.
    """
    if not reads:
        return {}
    if on_postgresql(session):
        rows: list[Any] = []
        for with_id in (True, False):
            group = [r for r in reads if bool(r.client_read_id) is with_id]
            if not group:
                continue
            rows += (
                session.connection()
                .execute(
                    _INSERT_BY_KIND[device_id is not None, with_id],
                    {
                        "device_id": device_id,
                        "source_agency_id": agency_id,
                        "plate_status": PlateStatus.REPORTED.value,
                        "received_at": now,
                        "plates": [r.plate for r in group],
                        "captured": [r.captured_at for r in group],
                        "latitudes": [r.latitude for r in group],
                        "longitudes": [r.longitude for r in group],
                        "client_ids": [r.client_read_id for r in group],
                        "periods": [periods.get(r.index) for r in group],
                        "deferred": [now if r.index in deferred else None for r in group],
                    },
                )
                .all()
            )
        result: Any = rows
    else:
        table = Read.__table__
        stmt = (
            sqlite.insert(table)
            .on_conflict_do_nothing()
            .returning(table.c.id, table.c.client_read_id, table.c.plate, table.c.captured_at)
        )
        rows = [
            {
                "device_id": device_id,
                "source_agency_id": agency_id,
                "plate": r.plate,
                "captured_at": r.captured_at,
                "latitude": r.latitude,
                "longitude": r.longitude,
                "client_read_id": r.client_read_id,
                "plate_status": PlateStatus.REPORTED.value,
                "active_use_period_id": periods.get(r.index),
                "acp_deferred_at": now if r.index in deferred else None,
                "received_at": now,
            }
            for r in reads
        ]
        result = session.connection().execute(stmt, rows)
    return {
        (("c", cid) if cid else ("p", plate)) + (_utc(captured_at),): read_id
        for read_id, cid, plate, captured_at in result
    }


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def ingest_reads(
    session: Session,
    actor: Any,
    reads: Sequence[ReadIn],
    *,
    device: Device | None = None,
    agency: Agency | None = None,
    gap_minutes: int = 30,
) -> IngestResult:
    """Store validated reads from a device (or another agency's, 425.5), match, count, audit.

    Exactly one of `device` / `agency` is given. Another agency's reads have no period of active
    use (the log of use is about this department's cameras). Raises :class:`IngestRefused`
    (409) when a fixed device has no deployment in force. Flushes; the caller commits.
    """
    if (device is None) == (agency is None):
        raise ValueError("ingest_reads needs exactly one of device or agency")
    now = utcnow()
    outcomes: dict[int, dict[str, Any]] = {}
    fresh: list[ReadIn] = []
    seen: set[tuple[Any, ...]] = set()
    for read in reads:
        key = _dedupe_key(read)
        if key in seen:
            outcomes[read.index] = {"outcome": "duplicate"}
        else:
            seen.add(key)
            fresh.append(read)

    if device is not None:
        # Device row first, audit chain after (the ACP screen may append): every writer of a
        # device's periods takes the two in this order (lock_device).
        lock_device(session, device.id)
    # A resend is found by the insert's ON CONFLICT; but the ACP screen counts what it destroys
    # or defers before that, so its reads' resends are found first and counted nowhere: a read
    # stored before (deferred, or stored before its plate's suppression began) by lookup, one
    # destroyed at collection before by its keyed digest (app.retention.acp.known_destroyed).
    screening = decide_at_collection(
        session, [ReadFacts(r.plate, r.captured_at, device.id if device else None) for r in fresh]
    )
    verdicts = dict(zip((r.index for r in fresh), screening.verdicts, strict=True))
    screened = [r for r in fresh if verdicts[r.index] is not AcpVerdict.KEEP]
    sender = read_sender(device.id if device else None, agency.id if agency else None)
    identity = {
        r.index: read_identity(sender, r.client_read_id, r.plate, r.captured_at) for r in screened
    }
    if screened:
        stored_before = _already_stored(session, screened, device, agency)
        doomed = [r for r in screened if verdicts[r.index] is AcpVerdict.DESTROY]
        destroyed_before = known_destroyed(session, [identity[r.index] for r in doomed])
        for read in screened:
            if _dedupe_key(read) in stored_before or identity[read.index] in destroyed_before:
                outcomes[read.index] = {"outcome": "duplicate"}
    position = {r.index: n for n, r in enumerate(fresh)}
    acp_entry = screening.count(session, resent={position[i] for i in outcomes if i in position})
    fresh = [r for r in fresh if r.index not in outcomes]
    remember_destroyed(
        session,
        (
            (identity[r.index], r.captured_at)
            for r in fresh
            if verdicts[r.index] is AcpVerdict.DESTROY
        ),
    )

    period_of: dict[int, ActiveUsePeriod] = {}
    if device is not None:
        placed = place_in_periods(
            session, device, [r.captured_at for r in fresh], gap_minutes=gap_minutes
        )
        period_of = {r.index: p for r, p in zip(fresh, placed, strict=True)}
    used: list[ReadIn] = []
    deferred: set[int] = set()
    for read in fresh:
        verdict = verdicts[read.index]
        if verdict is AcpVerdict.DESTROY:
            outcomes[read.index] = {"outcome": "destroyed_acp"}
        else:
            used.append(read)
            if verdict is AcpVerdict.DEFER:
                deferred.add(read.index)

    new_ids = _insert_reads(
        session,
        used,
        device_id=device.id if device else None,
        agency_id=agency.id if agency else None,
        periods={i: p.id for i, p in period_of.items()},
        deferred=deferred,
        now=now,
    )
    stored: list[tuple[ReadIn, int]] = []
    for read in used:
        read_id = new_ids.get(_dedupe_key(read))
        if read_id is None:  # a concurrent resend won the race
            outcomes[read.index] = {"outcome": "duplicate"}
            period_of.pop(read.index, None)
        else:
            outcomes[read.index] = {"outcome": "stored", "read_id": read_id}
            stored.append((read, read_id))

    label = device_actor(device) if device is not None else actor
    with session.no_autoflush:  # the periods are written once, with their counts, below
        sources = sources_in_force(session)
        matches = find_matches(session, [(i, r.captured_at, r.plate) for r, i in stored], sources)
    if device is not None:
        # Counts first, audit last: the audit append serialises every writer until the commit
        # (app.audit.services), so nothing else may run between the first append and it.
        index_of = {read_id: read.index for read, read_id in stored}
        note_device_use(
            session, device, [r.captured_at for r in fresh if r.index in period_of], now
        )
        count_in_periods(
            session,
            reads=period_of.values(),
            hits=[(period_of[index_of[m.read_id]], category) for m, category in log_hits(matches)],
            compared=sorted(sources.values()),
        )
    hit_pairs, hit_entries = create_hits(session, label, matches)
    ordered = [{"index": r.index, **outcomes[r.index]} for r in reads]
    for item, read in zip(ordered, reads, strict=True):
        if read.client_read_id:
            item["client_read_id"] = read.client_read_id
    counts = Counter(item["outcome"] for item in ordered)
    counts["deferred_acp"] = len(deferred & {r.index for r, _ in stored})
    counts["hits"] = len(hit_pairs)
    period_ids = sorted({p.id for p in period_of.values()})
    batch_entry = PendingEntry(
        actor,
        AuditAction.READS_INGESTED if device is not None else AuditAction.READS_IMPORTED,
        device if device is not None else agency,
        {
            "received": len(reads),
            "stored": counts["stored"],
            "duplicate": counts["duplicate"],
            "destroyed_acp": counts["destroyed_acp"],
            "deferred_acp": counts["deferred_acp"],
            "hits": counts["hits"],
            "active_use_periods": period_ids,
        },
    )
    record_many(session, [*([acp_entry] if acp_entry else []), *hit_entries, batch_entry])
    return IngestResult(ordered, counts, period_ids)
