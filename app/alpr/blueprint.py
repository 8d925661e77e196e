"""The ALPR domain's two blueprints: staff pages, and the device API (token auth, no CSRF)."""

from flask import Blueprint

bp = Blueprint("alpr", __name__, url_prefix="/alpr")
api_bp = Blueprint("alpr_api", __name__, url_prefix="/api/v1")
