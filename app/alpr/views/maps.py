"""The points the ALPR pages draw on their maps (templates/macros/map.html)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.maps import map_point
from app.core.timeutil import format_local
from app.reads.models import Deployment, Read


def read_points(reads: Iterable[Read], via: str | None) -> list[dict[str, object]]:
    """Reads already shown on the page, each linking to the read in the page's own context."""
    return [
        map_point(
            read.latitude,
            read.longitude,
            f"{read.plate or '(no plate)'} · {format_local(read.captured_at)}",
            url_for("alpr.read_detail", read_id=read.id, via=via) if via else None,
        )
        for read in reads
    ]


def deployment_points(session: Session) -> list[dict[str, object]]:
    """Where the cameras stand (pale: no longer), to draw a search area around."""
    deployments = session.scalars(select(Deployment).order_by(Deployment.location_name))
    return [
        map_point(
            d.latitude,
            d.longitude,
            f"{d.location_name}{' (ended)' if d.ended_on else ''}",
            emphasis=d.ended_on is None,
        )
        for d in deployments
    ]
