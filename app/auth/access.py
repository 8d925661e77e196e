"""Who may reach a view: one marker per view, enforced once for the whole app, failing closed.

Every view states its rule with :func:`public`, :func:`require`, :func:`signed_in` or a
device-token decorator.
A `before_request` hook enforces the rule; a view with no rule is refused, so a forgotten
decorator cannot open a page (policy 425.6(a)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, abort, current_app, jsonify, redirect, request, url_for
from flask_login import current_user

from app.auth.models import ADMIN_ROLES, Role
from app.core.timeutil import local_today

F = TypeVar("F", bound=Callable[..., Any])

#: Department staff who may use the staff pages at all (agency users have their own portal).
STAFF_ROLES = frozenset(r for r in Role if r is not Role.AGENCY)
#: Roles that run ALPR day to day (425.3); with current training they reach ALPR data.
ALPR_DATA_ROLES = frozenset({Role.OPERATOR, Role.ADMIN, Role.DEPUTY_CHIEF, Role.DESIGNEE})
#: Roles that administer devices, deployments and hotlists: 425.3 puts installation and
#: maintenance of ALPR equipment under the Deputy Chief or their designee.
EQUIPMENT_ROLES = ADMIN_ROLES | {Role.DESIGNEE}


@dataclass(frozen=True)
class AccessRule:
    """The access a view demands; `training` means current department-approved ALPR training."""

    public: bool = False
    bearer_token: bool = False
    any_account: bool = False
    roles: frozenset[Role] = field(default_factory=frozenset)
    training: bool = False


def _mark(view: F, rule: AccessRule) -> F:
    view.access_rule = rule  # type: ignore[attr-defined]
    return view


def public(view: F) -> F:
    """No login: the public pages of 425.5.1 and § 13.824 subd. 7, health checks, login."""
    return _mark(view, AccessRule(public=True))


def signed_in(view: F) -> F:
    """Any signed-in account, with or without a role: home, one's own password, signing out.

    A department account is created without roles until the Deputy Chief or designee grants
    them (425.3); its owner must still be able to sign in, choose a password and sign out.
    """
    return _mark(view, AccessRule(any_account=True))


def bearer_token_only(view: F) -> F:
    """Reached with a device's or an agency's bearer token; the view's own decorator checks it."""
    return _mark(view, AccessRule(bearer_token=True))


def require(*roles: Role | frozenset[Role], training: bool = False) -> Callable[[F], F]:
    """Login with one of `roles`; `training=True` for anything touching ALPR data (425.4(d))."""
    flat: set[Role] = set()
    for item in roles:
        flat.update(item if isinstance(item, frozenset) else {item})
    if not flat:
        raise ValueError("require() needs at least one role; use @public for open pages")
    rule = AccessRule(roles=frozenset(flat), training=training)
    return lambda view: _mark(view, rule)


def rule_for_endpoint(app: Flask, endpoint: str | None) -> AccessRule | None:
    """The rule a view declared (static files are public); None when it declared none."""
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return AccessRule(public=True)
    view = app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def wants_json() -> bool:
    """API routes answer JSON, pages answer HTML."""
    return request.path.startswith("/api/")


def _refuse_anonymous() -> Any:
    if wants_json():
        response = jsonify(error="authentication required", status=401)
        response.status_code = 401
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


#: What an account whose password someone else set may reach before choosing its own.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.password", "auth.logout"})


def _ask_for_a_new_password() -> Any:
    if wants_json():
        response = jsonify(error="choose a new password first", status=403)
        response.status_code = 403
        return response
    return redirect(url_for("auth.password"))


def access_denied_reason(user: Any, rule: AccessRule) -> str | None:
    """Why `user` may not pass `rule`, or None when they may. Used by views and the nav."""
    if not rule.any_account and not user.has_role(*rule.roles):
        return "Your role does not allow this page."
    if rule.training and user.current_training(local_today()) is None:
        return (
            "Current department-approved ALPR training is required to reach ALPR data "
            "(policy 425.4(d)). Ask the Deputy Chief or designee to record your training."
        )
    return None


def enforce_access() -> Any:
    """before_request: apply the endpoint's rule, or refuse when it has none."""
    if request.endpoint is None:
        return None  # 404/405 are answered by the error handlers
    rule = rule_for_endpoint(current_app, request.endpoint)
    if rule is None:
        current_app.logger.error("endpoint %s has no access rule; refused", request.endpoint)
        abort(403)
    if rule.public or rule.bearer_token:
        return None
    if not current_user.is_authenticated:
        return _refuse_anonymous()
    if current_user.password_must_change and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        return _ask_for_a_new_password()
    reason = access_denied_reason(current_user, rule)
    if reason is not None:
        from app.audit.actions import AuditAction
        from app.audit.services import record
        from app.db import db_session

        session = db_session()
        record(
            session,
            current_user._get_current_object(),
            AuditAction.ACCESS_DENIED,
            ("endpoint", request.endpoint),
            {"path": request.path, "method": request.method, "reason": reason},
        )
        session.commit()
        abort(403, description=reason)
    return None


def can_reach(user: Any, endpoint: str) -> bool:
    """Whether `user` passes `endpoint`'s rule: the navigation shows only what they may open."""
    rule = rule_for_endpoint(current_app, endpoint)
    if rule is None:
        return False
    if rule.public:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    return access_denied_reason(user, rule) is None
