"""Import every module that adds routes to the ALPR blueprints (one module per area)."""

from app.alpr import device_auth  # noqa: F401
