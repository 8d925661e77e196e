"""Template filters, the role-aware navigation, and who sees confidential data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_login import current_user

from app.auth.access import can_reach
from app.auth.models import ROLE_LABELS
from app.auth.permissions import ACCOUNT_PERMISSIONS, AccountAction
from app.core.maps import map_tiles
from app.core.timeutil import format_local
from app.db import utcnow
from app.workflow.machine import WorkflowError, machine_for


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
    NavItem("public.audit_copy", "Public copy of the trail"),
    NavItem("alpr.devices", "Devices"),
    NavItem("alpr.hotlists", "Hotlists"),
    NavItem("alpr.review", "Plate review"),
    NavItem("alpr.pending_ocr", "Waiting for OCR"),
    NavItem("alpr.hits", "Hit alerts"),
    NavItem("alpr.search", "Search"),
    NavItem("investigations.index", "Investigations"),
    NavItem("retention.dashboard", "Retention"),
    NavItem("retention.acp_list", "ACP requests"),
    NavItem("retention.exculpatory_list", "Exculpatory requests"),
    NavItem("breaches.index", "Breach incidents"),
    NavItem("bca.index", "BCA notices"),
    NavItem("reports.compliance", "Compliance"),
    NavItem("breaches.new", "Report a breach"),
    NavItem("requests.queue", "Agency requests"),
    NavItem("requests.agencies", "Agencies"),
    NavItem("requests.outbox_page", "Outbox"),
    NavItem("requests.portal", "Our requests"),
    NavItem("requests.portal_new", "New request"),
]


@dataclass(frozen=True)
class StateBadge:
    """A case's state as its badge shows it: the machine's name for it, and whether it is final."""

    value: str
    label: str
    final: bool


def state_badge(subject: Any) -> StateBadge:
    """The state of `subject` as its workflow machine names it (the ``state`` filter).

    Templates show a state through this and never compare one: what a state allows is the
    machine's to say (:func:`app.core.pages.next_step_views`). A subject whose stored value is
    no state of its machine (a camera-reported plate) shows that value.
    """
    try:
        machine = machine_for(subject)
    except (LookupError, WorkflowError):
        value = str(getattr(subject, "status", None) or getattr(subject, "plate_status", ""))
        return StateBadge(value, value.replace("_", " ").capitalize(), False)
    state = machine.current_state
    return StateBadge(state.value, state.name, state.final)


def register(app: Flask) -> None:
    """Add the filters and the navigation context processor."""
    app.jinja_env.filters["localtime"] = format_local
    app.jinja_env.filters["state"] = state_badge
    app.jinja_env.filters["localdate"] = lambda value: format_local(value, "%Y-%m-%d")
    app.jinja_env.globals["map_tiles"] = map_tiles

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        items: list[NavItem] = []
        if current_user.is_authenticated:
            items = [
                item
                for item in NAVIGATION
                if item.endpoint in app.view_functions and can_reach(current_user, item.endpoint)
            ]
        return {
            "nav_items": items,
            "role_labels": ROLE_LABELS,
            "now_utc": utcnow,
            # 425.4(e): hotlist record numbers and the like only for those authorised for them
            "sees_confidential": ACCOUNT_PERMISSIONS.allows(
                current_user._get_current_object(), AccountAction.SEE_CONFIDENTIAL_DATA
            ),
        }
