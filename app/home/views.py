"""The staff home and the health checks."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user

from app.audit.services import last_verification, unchained
from app.auth.access import STAFF_ROLES, public, signed_in
from app.auth.models import Role
from app.bca.permissions import BCA_PERMISSIONS, BcaAction
from app.bca.services import overdue_notices
from app.core.timeutil import local_today
from app.db import db_session
from app.reports.permissions import REPORT_PERMISSIONS, ReportAction
from app.reports.services import last_compliance_check
from app.requests.permissions import REQUEST_PERMISSIONS, RequestAction
from app.requests.services import awaiting_review

bp = Blueprint("home", __name__)


@bp.route("/")
@signed_in
def home():
    """What a signed-in user needs first: roles, training status, the chain's last check.

    Agency users see their agency's account only: department data and the audit chain stay
    with department staff. An account without a role yet sees only that it has none. The
    Deputy Chief and the ALPR administrators also see every BCA notice past its due date
    (425.4.1(d)); the Deputy Chief and designee see the compliance counters that were above
    zero at their last check.
    """
    staff = current_user.has_role(*STAFF_ROLES)
    today = local_today()
    watches_bca = BCA_PERMISSIONS.allows(current_user, BcaAction.WATCH_OVERDUE)
    watches_compliance = REPORT_PERMISSIONS.allows(current_user, ReportAction.WATCH_COUNTERS)
    reviews = REQUEST_PERMISSIONS.allows(current_user, RequestAction.REVIEW)
    return render_template(
        "home/home.html",
        staff=staff,
        agency=current_user.has_role(Role.AGENCY),
        awaiting_review=awaiting_review(db_session()) if reviews else None,
        training=current_user.current_training(today) if staff else None,
        verification=last_verification(db_session()) if staff else None,
        unchained_alarm=unchained(db_session()).alarm() if staff else None,
        bca_overdue=overdue_notices(db_session(), today) if watches_bca else None,
        compliance=last_compliance_check(db_session()) if watches_compliance else None,
        today=today,
    )


@bp.route("/healthz")
@public
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@bp.route("/readyz")
@public
def readyz():
    """The database and the job queue answer; how many audit entries wait for the sequencer.

    Entries unchained past the alarm's bound are reported, not made a failure: taking every
    web process out of service would stop the commits whose after-commit runs chain them.
    """
    checks: dict[str, str] = {}
    ready = True
    try:
        waiting = unchained(db_session())
        checks["database"] = "ok"
        checks["audit_unchained"] = waiting.alarm() or f"ok: {waiting.count} waiting"
    except Exception:  # any driver failure means not ready
        current_app.logger.exception("readiness: database unreachable")
        checks["database"] = "unreachable"
        ready = False
    from workers.queue import queue_ping

    queue_status = queue_ping()
    checks["queue"] = queue_status
    ready = ready and queue_status in {"ok", "in-process"}
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503
