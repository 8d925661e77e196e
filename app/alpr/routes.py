"""Import every module that adds routes to the ALPR blueprints (one module per area)."""

from app.alpr import (  # noqa: F401
    api,
    api_images,
    device_auth,
    read_views,
    views_devices,
    views_hits,
    views_investigations,
    views_search,
)
