"""The ALPR staff pages: one blueprint, one module per area (devices, hits, reads, search)."""

from flask import Blueprint

bp = Blueprint("alpr", __name__, url_prefix="/alpr")

from app.alpr.views import devices, hits, pending, reads, search  # noqa: E402, F401  (routes)
