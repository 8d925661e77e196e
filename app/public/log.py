"""The public log of use (policy 425.5.1, § 13.824 subd. 5), read from the stored periods only.

Each period of active use was counted as its reads arrived (:mod:`app.alpr.ingest.periods`);
nothing here reads `reads`, so the log is the same after the purge destroys them. Lists an
investigation's own hotlist as "active investigative data", never by its name or case, and a
location marked security information (§ 13.37 subd. 2) as withheld.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.alpr.hotlists import MN_PLATE_FILE
from app.core.timeutil import format_local, local_to_utc, local_today
from app.reads.models import ActiveUsePeriod, Deployment, Device

STATE_FILE_LABEL = "Minnesota license plate data file (BCA)"
INVESTIGATIVE_LABEL = "active investigative data"
WITHHELD_LOCATION = "withheld: security information (Minn. Stat. § 13.37 subd. 2)"
#: The hit counts the log gives (425.5.1(c)), in order, with their public names.
HIT_COLUMNS = (
    ("stolen", "Stolen vehicle or plate"),
    ("warrant", "Warrant"),
    ("suspended_revoked", "Suspended or revoked licence"),
    ("investigative", "Active investigative data"),
)


class LogFilterError(ValueError):
    """A filter the log cannot apply; `field` names it for the form."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def public_source_name(name: str) -> str:
    """A compared list as the public sees it: the state file, or "active investigative data".

    Any list but the state file is loaded for an investigation and named by it, so its name
    is never shown (and an unknown name counts as investigative: fail closed).
    """
    return STATE_FILE_LABEL if name == MN_PLATE_FILE else INVESTIGATIVE_LABEL


def parse_month(raw: str | None) -> date | None:
    """`YYYY-MM` to the month's first day; empty means every month."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        first = datetime.strptime(raw, "%Y-%m").date()
    except ValueError as exc:
        raise LogFilterError("Choose a month as YYYY-MM, e.g. 2026-11.", "month") from exc
    if not 2000 <= first.year <= 2100:
        raise LogFilterError("Choose a month from 2000 to 2100.", "month")
    return first


def next_month(first: date) -> date:
    """The first day of the month after `first`'s."""
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class LogFilters:
    """The month (its first day) and device serial asked for; None means all."""

    month: date | None = None
    device: str | None = None


def parse_filters(session: Session, month: str | None, device: str | None) -> LogFilters:
    """Check the query string's filters; raises LogFilterError naming the bad field."""
    first = parse_month(month)
    serial = (device or "").strip() or None
    if serial is not None and serial not in set(log_devices(session)):
        raise LogFilterError("No device of that serial has a period of active use.", "device")
    return LogFilters(first, serial)


def log_devices(session: Session) -> list[str]:
    """The serials of the devices the log has periods for (the device filter's choices)."""
    return list(
        session.scalars(
            select(Device.serial)
            .where(Device.id.in_(select(ActiveUsePeriod.device_id)))
            .order_by(Device.serial)
        )
    )


@dataclass(frozen=True)
class LogRow:
    """One period of active use as the public sees it."""

    date: str
    start: str
    end: str
    device: str
    device_kind: str
    location: str | None
    plates_read: int
    compared: list[str]
    hits: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """The JSON download's form of the row."""
        return {
            "date": self.date,
            "collected_from": self.start,
            "collected_to": self.end,
            "device": self.device,
            "device_kind": self.device_kind,
            "location": self.location,
            "plates_read": self.plates_read,
            "databases_compared": self.compared,
            "hits": self.hits,
        }


def _query(filters: LogFilters):
    stmt = (
        select(ActiveUsePeriod, Device.serial, Device.kind, Deployment.security_information)
        .join(Device, Device.id == ActiveUsePeriod.device_id)
        .outerjoin(Deployment, Deployment.id == ActiveUsePeriod.deployment_id)
    )
    if filters.month is not None:
        stmt = stmt.where(
            ActiveUsePeriod.started_at >= _local_midnight(filters.month),
            ActiveUsePeriod.started_at < _local_midnight(next_month(filters.month)),
        )
    if filters.device is not None:
        stmt = stmt.where(Device.serial == filters.device)
    return stmt


def _local_midnight(day: date) -> datetime:
    return local_to_utc(datetime.combine(day, datetime.min.time()))


def _row(period: ActiveUsePeriod, serial: str, kind: str, secret: bool | None) -> LogRow:
    location = None
    if period.deployment_id is not None:
        location = WITHHELD_LOCATION if secret else period.location_name
    return LogRow(
        date=format_local(period.started_at, "%Y-%m-%d"),
        start=format_local(period.started_at, "%H:%M %Z"),
        end=format_local(period.ended_at, "%Y-%m-%d %H:%M %Z")
        if local_today(period.ended_at) != local_today(period.started_at)
        else format_local(period.ended_at, "%H:%M %Z"),
        device=serial,
        device_kind=kind,
        location=location,
        plates_read=period.plates_read,
        compared=sorted(
            {public_source_name(n) for n in json.loads(period.sources_compared or "[]")}
        ),
        hits={name: getattr(period, f"hits_{name}") for name, _ in HIT_COLUMNS},
    )


@dataclass(frozen=True)
class LogPage:
    """One page of the log, newest period first."""

    rows: list[LogRow]
    page: int
    pages: int
    total: int


def log_page(session: Session, filters: LogFilters, page: int, page_size: int) -> LogPage:
    """A page of periods; raises LookupError for a page outside the log."""
    stmt = _query(filters)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // page_size))
    if not 1 <= page <= pages:
        raise LookupError(f"page {page} is outside 1..{pages}")
    rows = session.execute(
        stmt.order_by(ActiveUsePeriod.started_at.desc(), ActiveUsePeriod.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return LogPage([_row(*r) for r in rows], page, pages, total)


def log_rows(session: Session, filters: LogFilters) -> list[LogRow]:
    """Every period the filters select, oldest first (the downloads)."""
    rows = session.execute(_query(filters).order_by(ActiveUsePeriod.started_at, ActiveUsePeriod.id))
    return [_row(*r) for r in rows]


@dataclass(frozen=True)
class DailyTotals:
    """Plates read and hits by category per local day of one month (the chart)."""

    month: date
    days: list[date]
    plates: list[int]
    hits: dict[str, list[int]]


def chart_month(session: Session, filters: LogFilters) -> date | None:
    """The month the chart shows: the one filtered, else the latest with a period."""
    if filters.month is not None:
        return filters.month
    latest = session.scalar(_query(filters).with_only_columns(func.max(ActiveUsePeriod.started_at)))
    return None if latest is None else local_today(latest).replace(day=1)


def daily_totals(session: Session, filters: LogFilters) -> DailyTotals | None:
    """Each day of the chart's month with its periods' counts (a period counts on its start)."""
    month = chart_month(session, filters)
    if month is None:
        return None
    days = [month + timedelta(days=n) for n in range((next_month(month) - month).days)]
    plates: Counter[date] = Counter()
    hits: dict[str, Counter[date]] = {name: Counter() for name, _ in HIT_COLUMNS}
    for period, *_ in session.execute(_query(LogFilters(month, filters.device))):
        day = local_today(period.started_at)
        plates[day] += period.plates_read
        for name, _ in HIT_COLUMNS:
            hits[name][day] += getattr(period, f"hits_{name}")
    return DailyTotals(
        month,
        days,
        [plates[d] for d in days],
        {name: [counts[d] for d in days] for name, counts in hits.items()},
    )
