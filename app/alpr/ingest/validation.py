"""Validation of what a device or another agency sends, before anything is stored.

Validation is all-or-nothing. A batch with any structural error (unknown field, wrong type,
missing field) or any invalid value (plate, time, coordinates) is refused whole with one error
per offending read, and nothing is stored: a camera resends a corrected batch, and a half-
stored batch would leave it guessing which reads made it. Unknown fields are named, because
425.4.1(a) limits what a read may hold.

Each field parser takes the raw value (JSON or form text) and returns the stored form or raises
:class:`FieldError` naming the field, so the JSON ingest and the image upload refuse bad input
with the same words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from app.reads.plates import FieldError, normalise_plate
from app.retention.policy import retention_cutoff

#: The only fields a read may carry (425.4.1(a)), plus the device's own id for resends.
READ_FIELDS = frozenset({"plate", "captured_at", "latitude", "longitude", "client_read_id"})
CLIENT_READ_ID_MAX = 64
CLIENT_READ_ID_PATTERN = re.compile(rf"[A-Za-z0-9_.:-]{{1,{CLIENT_READ_ID_MAX}}}")


def captured_at_parser(
    *, now: datetime, clock_skew_seconds: int, retention_days: int
) -> Callable[[object], datetime]:
    """:func:`parse_captured_at` with its bounds worked out once, for a whole batch."""
    latest = now + timedelta(seconds=clock_skew_seconds)
    cutoff = retention_cutoff(now, retention_days)
    too_old = (
        f"is past the {retention_days}-day retention period (reads collected before "
        f"{cutoff:%Y-%m-%d} 00:00 UTC are destroyed)"
    )

    def parse(raw: object) -> datetime:
        field = "captured_at"
        if not isinstance(raw, str) or not raw.strip():
            raise FieldError(field, "must be an ISO 8601 date and time")
        try:
            value = datetime.fromisoformat(raw.strip())
        except ValueError as exc:
            raise FieldError(field, f"{raw!r} is not an ISO 8601 date and time") from exc
        if value.tzinfo is None:
            raise FieldError(field, "must carry a UTC offset (e.g. 2026-05-01T14:03:00Z)")
        try:
            value = value.astimezone(UTC)
        except OverflowError:  # beyond the calendar in UTC: 9999-12-31T23:00-05:00, or year 1
            raise FieldError(field, "is in the future" if value > now else too_old) from None
        if value > latest:
            raise FieldError(field, "is in the future")
        if value < cutoff:
            raise FieldError(field, too_old)
        return value

    return parse


def parse_captured_at(
    raw: object, *, now: datetime, clock_skew_seconds: int, retention_days: int
) -> datetime:
    """An ISO 8601 time with a UTC offset, not in the future and not already past retention.

    A read past its retention would have to be destroyed at once (425.5), so it is refused
    rather than stored; a small clock skew is allowed for cameras' clocks.
    """
    parse = captured_at_parser(
        now=now, clock_skew_seconds=clock_skew_seconds, retention_days=retention_days
    )
    return parse(raw)


def parse_coordinate(raw: object, field: str) -> float:
    """Latitude within ±90 or longitude within ±180, from a number or its text."""
    limit = 90.0 if field == "latitude" else 180.0
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise FieldError(field, "must be a number")
    try:
        value = float(raw)
    except OverflowError:
        raise FieldError(field, f"must be between -{limit:g} and {limit:g}") from None
    except ValueError as exc:
        raise FieldError(field, f"{str(raw)[:40]!r} is not a number") from exc
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise FieldError(field, f"must be between -{limit:g} and {limit:g}")
    return value


def parse_client_read_id(raw: object) -> str | None:
    """The device's own id for a read, which makes a resend harmless; optional.

    Only a short safe identifier is kept (letters, digits and ``-_.:``): it is stored beside the
    read and said back in responses, so it may carry nothing else (no control characters, no
    text a camera could use to smuggle a name or a note past 425.4.1(a)).
    """
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not CLIENT_READ_ID_PATTERN.fullmatch(raw):
        raise FieldError(
            "client_read_id",
            f"must be 1 to {CLIENT_READ_ID_MAX} letters, digits or - _ . : characters",
        )
    return raw


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
