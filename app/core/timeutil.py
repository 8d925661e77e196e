"""UTC in storage, America/Chicago on screen."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_ZONE = "America/Chicago"


def display_zone() -> ZoneInfo:
    """The zone pages show times in."""
    name = (
        current_app.config.get("DISPLAY_TIMEZONE", DEFAULT_ZONE)
        if has_app_context()
        else DEFAULT_ZONE
    )
    return ZoneInfo(name)


def local_today(now: datetime | None = None) -> date:
    """The department's calendar date, which training and retention dates are written in."""
    return (now or datetime.now(UTC)).astimezone(display_zone()).date()


def format_local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    """A UTC timestamp as local time (the `localtime` template filter)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(display_zone()).strftime(fmt)


#: Years a typed date may fall in: wider than any record's, and narrow enough that turning it
#: into UTC never leaves Python's calendar (local 9999-12-31 18:00 would be UTC year 10000).
TYPED_YEARS = range(2000, 2101)


def local_to_utc(moment: datetime) -> datetime:
    """A typed time as UTC: naive means the department's local time.

    Raises ValueError, with a message for the form, for a year outside :data:`TYPED_YEARS`.
    """
    if moment.year not in TYPED_YEARS:
        raise ValueError(f"Enter a year from {TYPED_YEARS[0]} to {TYPED_YEARS[-1]}.")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=display_zone())
    return moment.astimezone(UTC)


def parse_local_datetime(value: str) -> datetime:
    """Read a datetime typed in local time (HTML datetime-local) or ISO 8601 with offset."""
    return local_to_utc(datetime.fromisoformat(value.strip()))
