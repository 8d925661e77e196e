"""The ALPR staff pages: one blueprint, one module per area (devices, hits, reads, search)."""

from flask import Blueprint

bp = Blueprint("alpr", __name__, url_prefix="/alpr")

from app.alpr.views import (  # noqa: E402, F401  (attach the routes)
    devices,
    exports,
    hits,
    pending,
    reads,
    search,
)
