"""The audit trail for auditors: browse entries, run a verification."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.audit.services import last_verification, verify_and_record
from app.auth.access import require
from app.auth.models import Role
from app.db import db_session

bp = Blueprint("audit", __name__, url_prefix="/audit")

AUDIT_ROLES = frozenset({Role.AUDITOR, Role.ADMIN, Role.DEPUTY_CHIEF})
PAGE_SIZE = 50


@bp.route("/")
@require(AUDIT_ROLES)
def entries():
    """Newest entries first, paginated; details are shown unless redacted."""
    session = db_session()
    page = max(1, request.args.get("page", 1, type=int))
    action = request.args.get("action", "").strip()
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc())
    count_stmt = select(func.count(AuditEntry.id))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
        count_stmt = count_stmt.where(AuditEntry.action == action)
    total = session.scalar(count_stmt) or 0
    rows = session.scalars(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template(
        "audit/entries.html",
        rows=rows,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        total=total,
        action=action,
        verification=last_verification(session),
        form=FlaskForm(),
    )


@bp.route("/verify", methods=["POST"])
@require(AUDIT_ROLES)
def verify_now():
    """Verify the whole chain now and record the outcome."""
    form = FlaskForm()
    if not form.validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("audit.entries"))
    session = db_session()
    result = verify_and_record(session, current_user._get_current_object())
    session.commit()
    flash(result.describe(), "success" if result.ok else "error")
    return redirect(url_for("audit.entries"))
