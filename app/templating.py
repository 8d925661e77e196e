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
    endpoint: str
    label: str


#: Every staff page that belongs in the menu; each user sees the ones their rule lets them open.
NAVIGATION: list[NavItem] = [
    NavItem("core.home", "Home"),
    NavItem("auth.users", "Users & training"),
    NavItem("audit.entries", "Audit trail"),
]


def register(app: Flask) -> None:
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
