"""The staff home and the health checks."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, send_from_directory

from app.audit.services import unchained
from app.auth.access import STAFF_ROLES, public, signed_in
from app.core.pages import acting_user
from app.core.timeutil import local_today
from app.db import db_session, utcnow
from app.home.queue import Limits, home_queue

bp = Blueprint("home", __name__)

#: How often the home page asks for its cards again (htmx, ``hx-trigger="every …"``).
REFRESH_SECONDS = 30


def _queue_context() -> dict[str, object]:
    config = current_app.config
    limits = Limits(
        device_silent_hours=config["DEVICE_SILENT_HOURS"],
        token_rotate_days=config["TOKEN_ROTATE_DAYS"],
        training_lapse_days=config["TRAINING_LAPSE_DAYS"],
    )
    user = acting_user()
    today = local_today()
    return {
        "queue": home_queue(db_session(), user, now=utcnow(), today=today, limits=limits),
        "staff": user.has_role(*STAFF_ROLES),
        # Audit entries left unchained past the bound: every staff member sees the alarm.
        "unchained_alarm": unchained(db_session()).alarm() if user.has_role(*STAFF_ROLES) else None,
        "today": today,
        "refresh_seconds": REFRESH_SECONDS,
    }


@bp.route("/")
@signed_in
def home():
    """The signed-in user's work: each card counts what waits for them and links to it.

    Agency users see their agency's requests only: department data and the audit chain stay
    with department staff. An account without a role yet sees only that it has none; staff
    without current training see that first, and no work (every list is closed to them).
    """
    return render_template("home/home.html", **_queue_context())


@bp.route("/home/queue")
@signed_in
def queue():
    """The cards alone, polled by the home page every REFRESH_SECONDS.

    Counts and names of requests, holds, devices and people only: no read data is shown, so a
    poll is not an access to ALPR data to audit.
    """
    return render_template("home/_queue.html", **_queue_context())


@bp.route("/healthz")
@public
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@bp.route("/favicon.ico")
@public
def favicon():
    """The tab icon, where browsers look for it without reading the page's link."""
    return send_from_directory(current_app.static_folder, "favicon.ico", max_age=86400)


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
