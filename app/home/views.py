"""The staff home and the health checks."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user
from sqlalchemy import text

from app.audit.services import last_verification
from app.auth.access import STAFF_ROLES, public, require
from app.auth.models import Role
from app.core.timeutil import local_today
from app.db import db_session
from app.requests.permissions import REQUEST_PERMISSIONS, RequestAction
from app.requests.services import awaiting_review

bp = Blueprint("home", __name__)


@bp.route("/")
@require(*Role)
def home():
    """What a signed-in user needs first: roles, training status, the chain's last check.

    Agency users see their agency's account only: department data and the audit chain stay
    with department staff.
    """
    staff = current_user.has_role(*STAFF_ROLES)
    reviews = REQUEST_PERMISSIONS.allows(current_user, RequestAction.REVIEW)
    return render_template(
        "home/home.html",
        staff=staff,
        awaiting_review=awaiting_review(db_session()) if reviews else None,
        training=current_user.current_training(local_today()) if staff else None,
        verification=last_verification(db_session()) if staff else None,
        today=local_today(),
    )


@bp.route("/healthz")
@public
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@bp.route("/readyz")
@public
def readyz():
    """The database and the job queue answer."""
    checks: dict[str, str] = {}
    ready = True
    try:
        db_session().execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # any driver failure means not ready
        current_app.logger.exception("readiness: database unreachable")
        checks["database"] = "unreachable"
        ready = False
    from workers.queue import queue_ping

    queue_status = queue_ping()
    checks["queue"] = queue_status
    ready = ready and queue_status in {"ok", "in-process"}
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503
