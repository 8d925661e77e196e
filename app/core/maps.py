"""Maps: the department's own tile server (``ALPR_MAP_TILE_URL``), or a plain drawing.

A page that draws a map asks :func:`map_tiles` (the ``map.html`` macros do), which also lets
that page's CSP admit images from the tile server's origin, and from no other.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, g


def map_tiles() -> str:
    """The tile URL ('' for a plain drawing); marks the page as drawing a map."""
    url: str = current_app.config["MAP_TILE_URL"]
    if url:
        g.map_tiles = url
    return url


def tile_policy(policy: str) -> str:
    """`policy`, with the tile server's origin allowed for images if this page draws a map."""
    url = g.get("map_tiles")
    if not url:
        return policy
    parts = urlsplit(url.replace("{", "").replace("}", ""))
    origin = f"{parts.scheme}://{parts.netloc}"
    return policy.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")


def map_point(
    lat: float, lng: float, label: str, href: str | None = None, *, emphasis: bool = True
) -> dict[str, object]:
    """One point as static/js/map.js draws it (a circle, its label or link in a popup)."""
    return {"lat": lat, "lng": lng, "label": label, "href": href, "emphasis": emphasis}
