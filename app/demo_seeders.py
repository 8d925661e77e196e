"""Import every domain's demo seeder so `demo seed` runs them (one import per domain)."""

from app.alpr import demo as alpr_demo  # noqa: F401
from app.alpr import demo_images as alpr_demo_images  # noqa: F401
from app.retention import demo as retention_demo  # noqa: F401
from app.retention import investigations_demo  # noqa: F401
