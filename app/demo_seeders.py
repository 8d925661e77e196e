"""Import every domain's demo seeder so `demo seed` runs them (one import per domain)."""

from app.alpr import demo as alpr_demo  # noqa: F401
