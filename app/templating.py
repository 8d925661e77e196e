"""Template filters and the role-aware navigation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_login import current_user

from app.auth.access import can_reach
from app.auth.models import ROLE_LABELS
from app.core.timeutil import format_local
from app.db import utcnow


@dataclass(frozen=True)
class NavItem:
    """A menu entry; shown only to users the endpoint's access rule admits."""

    endpoint: str
    label: str


#: Every staff page that belongs in the menu; each user sees the ones their rule lets them open.
NAVIGATION: list[NavItem] = [
    NavItem("home.home", "Home"),
    NavItem("auth.users", "Users & training"),
    NavItem("audit.entries", "Audit trail"),
    NavItem("alpr.devices", "Devices"),
    NavItem("alpr.hotlists", "Hotlists"),
    NavItem("alpr.review", "Plate review"),
    NavItem("alpr.hits", "Hit alerts"),
    NavItem("alpr.search", "Search"),
    NavItem("investigations.index", "Investigations"),
    NavItem("retention.dashboard", "Retention"),
    NavItem("breaches.index", "Breach incidents"),
    NavItem("breaches.new", "Report a breach"),
]


def register(app: Flask) -> None:
    """Add the filters and the navigation context processor."""
    app.jinja_env.filters["localtime"] = format_local
    app.jinja_env.filters["localdate"] = lambda value: format_local(value, "%Y-%m-%d")

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        items: list[NavItem] = []
        if current_user.is_authenticated:
            items = [
                item
                for item in NAVIGATION
                if item.endpoint in app.view_functions and can_reach(current_user, item.endpoint)
            ]
        return {"nav_items": items, "role_labels": ROLE_LABELS, "now_utc": utcnow}
