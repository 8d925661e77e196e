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


def parse_local_datetime(value: str) -> datetime:
    """Read a datetime typed in local time (HTML datetime-local) or ISO 8601 with offset."""
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=display_zone())
    return parsed.astimezone(UTC)
