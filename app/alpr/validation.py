"""Checks on what a device sends, shared by the JSON ingest and the image upload (425.4.1(a)).

Each parser takes the raw value (JSON or form text) and returns the stored form or raises
:class:`FieldError` naming the field, so both APIs refuse bad input with the same words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.reads.plates import FieldError
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
