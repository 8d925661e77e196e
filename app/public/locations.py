"""The public list of current and previous fixed ALPR locations (425.5.1, § 13.824 subd. 5).

A location marked security information (§ 13.37 subd. 2) is left out; the page says how many
are withheld, never which.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.maps import map_point
from app.reads.models import Deployment, Device

#: A plain drawing of the points, for a page without map tiles: its view box.
DRAWING_WIDTH, DRAWING_HEIGHT, DRAWING_MARGIN = 360, 240, 20


@dataclass(frozen=True)
class PublicLocation:
    """One listed deployment: where a fixed camera stood, from when to when."""

    number: int
    name: str
    latitude: float
    longitude: float
    device: str
    started_on: date
    ended_on: date | None

    @property
    def current(self) -> bool:
        """Still in place (no end date)."""
        return self.ended_on is None


@dataclass(frozen=True)
class LocationList:
    """The listed locations, current first, and how many are withheld."""

    locations: list[PublicLocation]
    withheld: int

    def points(self) -> list[dict[str, object]]:
        """The map's points (the script reads them from the page)."""
        return [
            map_point(
                loc.latitude,
                loc.longitude,
                f"{loc.number}. {loc.name} ({'current' if loc.current else 'previous'})",
                emphasis=loc.current,
            )
            for loc in self.locations
        ]


def public_locations(session: Session) -> LocationList:
    """Every deployment not marked security information, current first, then newest."""
    rows = session.execute(
        select(Deployment, Device.serial)
        .join(Device, Device.id == Deployment.device_id)
        .where(Deployment.security_information.is_(False))
        .order_by(
            Deployment.ended_on.is_not(None), Deployment.started_on.desc(), Deployment.id.desc()
        )
    ).all()
    withheld = (
        session.scalar(
            select(func.count(Deployment.id)).where(Deployment.security_information.is_(True))
        )
        or 0
    )
    return LocationList(
        [
            PublicLocation(
                number=index,
                name=deployment.location_name,
                latitude=deployment.latitude,
                longitude=deployment.longitude,
                device=serial,
                started_on=deployment.started_on,
                ended_on=deployment.ended_on,
            )
            for index, (deployment, serial) in enumerate(rows, start=1)
        ],
        withheld,
    )


@dataclass(frozen=True)
class DrawnPoint:
    """A location placed in the plain drawing's view box."""

    location: PublicLocation
    x: float
    y: float


def drawing(locations: list[PublicLocation]) -> list[DrawnPoint]:
    """The points placed by longitude and latitude in the drawing, north up, aspect kept.

    Needs no outside request: without a tile server the page draws these as an SVG.
    """
    if not locations:
        return []
    lats = [loc.latitude for loc in locations]
    lngs = [loc.longitude for loc in locations]
    span = max(max(lats) - min(lats), max(lngs) - min(lngs), 0.005)
    usable_w = DRAWING_WIDTH - 2 * DRAWING_MARGIN
    usable_h = DRAWING_HEIGHT - 2 * DRAWING_MARGIN
    scale = min(usable_w, usable_h) / span
    mid_lat, mid_lng = (max(lats) + min(lats)) / 2, (max(lngs) + min(lngs)) / 2
    return [
        DrawnPoint(
            loc,
            DRAWING_WIDTH / 2 + (loc.longitude - mid_lng) * scale,
            DRAWING_HEIGHT / 2 - (loc.latitude - mid_lat) * scale,
        )
        for loc in locations
    ]
