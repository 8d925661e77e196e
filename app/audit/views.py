"""The audit trail for auditors: browse entries, run a verification.

The entries' details carry ALPR data (plates read by OCR, reviews, search criteria), so both
pages demand current training like the ALPR pages (425.4(d)) and each view is an entry (425.6(a)).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from app.audit.services import browse_trail, last_verification, verify_and_record
from app.auth.access import require
from app.auth.models import Role
from app.core.pages import acting_user
from app.db import db_session

bp = Blueprint("audit", __name__, url_prefix="/audit")

AUDIT_ROLES = frozenset({Role.AUDITOR, Role.ADMIN, Role.DEPUTY_CHIEF})
PAGE_SIZE = 50


@bp.route("/")
@require(AUDIT_ROLES, training=True)
def entries():
    """Newest entries first, paginated; details are shown unless redacted; the view is audited."""
    session = db_session()
    try:
        trail = browse_trail(
            session,
            acting_user(),
            page=request.args.get("page", 1, type=int),
            action=request.args.get("action", "").strip(),
            page_size=PAGE_SIZE,
        )
    except LookupError:
        abort(404)
    verification = last_verification(session)
    session.commit()
    return render_template(
        "audit/entries.html",
        rows=trail.rows,
        page=trail.page,
        pages=trail.pages,
        total=trail.total,
        action=trail.action,
        verification=verification,
        form=FlaskForm(),
    )


@bp.route("/verify", methods=["POST"])
@require(AUDIT_ROLES, training=True)
def verify_now():
    """Verify the whole chain now and record the outcome (its own audit entry)."""
    form = FlaskForm()
    if not form.validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("audit.entries"))
    session = db_session()
    result = verify_and_record(session, acting_user())
    session.commit()
    flash(result.describe(), "success" if result.ok else "error")
    return redirect(url_for("audit.entries"))
