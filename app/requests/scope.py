"""What an agency request asks for, as reads, and never data the law keeps from a release.

The scope is a window inside retention, narrowed by plates, devices or an area.

Plates are read as the search reads them (:func:`app.alpr.search.parse_plate_query`: exact, or
partial with ``*``), and an area is a box as the search's. A request may name several plates
and several devices, which :class:`app.alpr.search.SearchCriteria` (one plate, one device)
cannot hold, so the scope keeps its own criteria and clauses.

Left out of every count and every package, whatever the scope:

- reads an ACP participant's request keeps out of use (425.5(b)), from the entry of the written
  request, and ACP-deferred ones: the same rule every search keeps to
  (:func:`app.retention.acp.suppression.visible_reads`);
- reads whose plate is not decided (waiting for OCR or a person's review, or unreadable):
  nobody can say whether they are a participant's.

Destroyed reads are simply gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from app.alpr.search import SearchError, parse_plate_query
from app.core.refusal import Refusal
from app.core.timeutil import format_local
from app.reads.models import Device, PlateStatus, Read
from app.requests.models import PLATES_MAX, AgencyRequest
from app.retention.acp.suppression import visible_reads
from app.retention.policy import retention_cutoff

#: Plates nobody has decided yet: never released.
UNDECIDED = (
    PlateStatus.PENDING_OCR.value,
    PlateStatus.NEEDS_REVIEW.value,
    PlateStatus.UNREADABLE.value,
)
#: A device may be late by this much: a window may end this far past now.
CLOCK_SLACK = timedelta(minutes=5)


class ScopeError(Refusal):
    """A scope that cannot make a lawful release; `field` names the form field."""


@dataclass(frozen=True)
class RequestScope:
    """A bounded window, and at least one of: plates, devices, an area."""

    start: datetime
    end: datetime
    plates: tuple[str, ...] = ()
    device_ids: tuple[int, ...] = ()
    box: tuple[float, float, float, float] | None = None

    @classmethod
    def of(cls, request: AgencyRequest) -> RequestScope:
        """The scope a stored request names."""
        return cls(
            start=request.window_start,
            end=request.window_end,
            plates=tuple(p.plate for p in request.plates),
            device_ids=tuple(d.device_id for d in request.devices),
            box=request.box,
        )

    def summary(self) -> dict[str, object]:
        """The scope as audit entries and the manifest record it."""
        return {
            "window_start": self.start.isoformat(),
            "window_end": self.end.isoformat(),
            "plates": list(self.plates),
            "device_ids": list(self.device_ids),
            "area": list(self.box) if self.box else None,
        }


def _plates(lines: Iterable[str]) -> tuple[str, ...]:
    found: list[str] = []
    for number, line in enumerate((ln for ln in lines if ln.strip()), start=1):
        try:
            plate = parse_plate_query(line)
        except SearchError as exc:
            raise ScopeError(f"Plate {number} ({line.strip()[:20]!r}): {exc}", "plates") from None
        if plate is not None and plate not in found:
            found.append(plate)
    if len(found) > PLATES_MAX:
        raise ScopeError(f"Name at most {PLATES_MAX} plates ({len(found)} given).", "plates")
    return tuple(found)


def _box(box: Sequence[float | None] | None) -> tuple[float, float, float, float] | None:
    if box is None or all(edge is None for edge in box):
        return None
    if any(edge is None for edge in box):
        raise ScopeError("Give all four edges of the area, or none.", "min_lat")
    south, north, west, east = (float(edge) for edge in box)  # type: ignore[arg-type]
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        raise ScopeError(
            "The area needs south < north within ±90 and west < east within ±180.", "min_lat"
        )
    return (south, north, west, east)


def parse_scope(
    session: Session,
    *,
    start: datetime | None,
    end: datetime | None,
    plates: Iterable[str],
    device_ids: Iterable[int],
    box: Sequence[float | None] | None,
    now: datetime,
    retention_days: int,
) -> RequestScope:
    """Check a requested scope; raises ScopeError at its field.

    The window is required, ends no later than now, and starts no earlier than the oldest
    collection day retention still keeps: older data is destroyed (425.5), so a request for
    it could only be answered with nothing. A window alone would be every read: the scope must
    name plates, devices or an area.
    """
    if start is None:
        raise ScopeError("Enter when the requested data starts.", "window_start")
    if end is None:
        raise ScopeError("Enter when the requested data ends.", "window_end")
    if start.tzinfo is None or end.tzinfo is None:
        raise ScopeError("Times must carry a time zone.", "window_start")
    if start >= end:
        raise ScopeError("The window must start before it ends.", "window_end")
    if end > now + CLOCK_SLACK:
        raise ScopeError("The window cannot end in the future: no such data exists.", "window_end")
    if start >= now:
        raise ScopeError("The window must start before now.", "window_start")
    cutoff = retention_cutoff(now, retention_days)
    if start < cutoff:
        raise ScopeError(
            f"ALPR data is kept {retention_days} days at most (policy 425.5): the window must "
            f"start on or after {format_local(cutoff)}.",
            "window_start",
        )
    clean_plates = _plates(plates)
    devices = tuple(sorted(set(device_ids)))
    if devices:
        known = set(session.scalars(select(Device.id).where(Device.id.in_(devices))))
        if unknown := [d for d in devices if d not in known]:
            raise ScopeError(f"No such device: {unknown[0]}.", "device_ids")
    area = _box(box)
    if not (clean_plates or devices or area):
        raise ScopeError(
            "Narrow the request by plates, devices or an area: a window alone is every read.",
            "plates",
        )
    return RequestScope(start, min(end, now), clean_plates, devices, area)


def scope_clauses(scope: RequestScope) -> list[ColumnElement[bool]]:
    """The reads `scope` names that a release may carry (none out of use, no undecided plate)."""
    clauses: list[ColumnElement[bool]] = [
        Read.captured_at >= scope.start,
        Read.captured_at < scope.end,
        Read.plate.is_not(None),
        Read.plate_status.not_in(UNDECIDED),
        visible_reads(),
    ]
    if scope.plates:
        clauses.append(
            or_(*(Read.plate.like(p) if "%" in p else Read.plate == p for p in scope.plates))
        )
    if scope.device_ids:
        clauses.append(Read.device_id.in_(scope.device_ids))
    if scope.box is not None:
        south, north, west, east = scope.box
        clauses += [Read.latitude.between(south, north), Read.longitude.between(west, east)]
    return clauses


def count_releasable(session: Session, scope: RequestScope) -> int:
    """How many reads the scope matches now that a release could carry."""
    return session.scalar(select(func.count()).select_from(Read).where(*scope_clauses(scope))) or 0
