"""The JSON API of devices and other agencies: bearer tokens, no cookies, no CSRF."""

from flask import Blueprint

api_bp = Blueprint("alpr_api", __name__, url_prefix="/api/v1")

from app.alpr.api import (  # noqa: E402, F401  (attach the routes)
    agency,
    cameras,
    images,
    openapi,
    reads,
)
