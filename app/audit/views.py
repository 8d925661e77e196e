"""The audit trail for auditors: browse and filter entries, export them, run a verification.

The entries' details carry ALPR data (plates read by OCR, reviews, search criteria), so every
page demands current training like the ALPR pages (425.4(d)) and each view or export is an entry
(425.6(a)).
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.audit.actions import AuditAction
from app.audit.forms import ANY, TrailFilterForm
from app.audit.models import AuditEntry
from app.audit.services import last_verification, verify_and_record
from app.audit.trail import (
    TrailFilter,
    actor_names,
    browse_trail,
    details_of,
    exported_entries,
    record_export,
    subject_names,
    subject_types,
)
from app.auth.access import require
from app.auth.models import Role, User
from app.auth.permissions import ACCOUNT_PERMISSIONS, AccountAction
from app.core.forms import AppForm
from app.core.pages import acting_user
from app.core.timeutil import format_local, local_to_utc
from app.db import db_session

bp = Blueprint("audit", __name__, url_prefix="/audit")

AUDIT_ROLES = frozenset({Role.AUDITOR, Role.ADMIN, Role.DEPUTY_CHIEF})
PAGE_SIZE = 50

#: The page each kind of subject has, and the name of its id in the route. Reads are not
#: linked: opening one needs a documented purpose, which the trail cannot supply.
SUBJECT_PAGES = {
    "users": ("auth.user_detail", "user_id"),
    "devices": ("alpr.device_detail", "device_id"),
    "hits": ("alpr.hit_detail", "hit_id"),
    "searches": ("alpr.search_results", "search_id"),
    "investigations": ("investigations.detail", "investigation_id"),
    "acp_requests": ("retention.acp_detail", "request_id"),
    "exculpatory_requests": ("retention.exculpatory_detail", "request_id"),
    "breach_incidents": ("breaches.detail", "incident_id"),
}

#: How much of an export is kept in memory before it spills to a temporary file.
EXPORT_SPOOL_BYTES = 8 * 1024 * 1024
#: CSV cells a spreadsheet would run as a formula start with one of these: quoted.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _filter_form(session: Any) -> TrailFilterForm:
    form = TrailFilterForm(request.args)
    people = session.execute(select(User.id, User.name, User.email).order_by(User.name)).all()
    form.person.choices = [
        ANY,
        *(SelectChoice(str(p.id), f"{p.name} ({p.email})") for p in people),
    ]
    form.subject_type.choices = [
        ANY,
        *(SelectChoice(kind, kind.replace("_", " ")) for kind in subject_types(session)),
    ]
    return form


def _day_start(day: date | None) -> datetime | None:
    return None if day is None else local_to_utc(datetime.combine(day, time.min))


def _trail_filter(form: TrailFilterForm) -> TrailFilter:
    """The form's choices as a filter; local calendar days become UTC bounds."""
    return TrailFilter(
        action=AuditAction(form.action.data) if form.action.data else None,
        actor_user_id=int(form.person.data) if form.person.data else None,
        since=_day_start(form.start.data),
        until=_day_start(form.end.data + timedelta(days=1)) if form.end.data else None,
        subject_type=form.subject_type.data or None,
        subject_id=(form.subject_id.data or "").strip() or None,
    )


def subject_url(entry: AuditEntry) -> str | None:
    """The page of what an entry is about, when it has one."""
    page = SUBJECT_PAGES.get(entry.subject_type or "")
    if page is None or not (entry.subject_id or "").isdigit():
        return None
    endpoint, argument = page
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **{argument: int(entry.subject_id)})


def _sees_confidential() -> bool:
    return ACCOUNT_PERMISSIONS.allows(acting_user(), AccountAction.SEE_CONFIDENTIAL_DATA)


def readable_details(entry: AuditEntry) -> list[tuple[str, str]]:
    """Details as label/value pairs for people: nested values as compact JSON."""
    details = details_of(entry, _sees_confidential()) or {}
    return [
        (key.replace("_", " "), value if isinstance(value, str) else json.dumps(value))
        for key, value in details.items()
    ]


@bp.route("/")
@require(AUDIT_ROLES, training=True)
def entries():
    """Newest entries first, filtered and paginated; the view is audited."""
    session = db_session()
    form = _filter_form(session)
    verification = last_verification(session)
    query = {key: value for key, value in request.args.items() if key != "page" and value}
    if not form.validate():
        page = render_template(
            "audit/entries.html",
            filters=form,
            query=query,
            verification=verification,
            form=AppForm(),
        )
        return page, 422
    try:
        trail = browse_trail(
            session,
            acting_user(),
            _trail_filter(form),
            page=request.args.get("page", 1, type=int),
            page_size=PAGE_SIZE,
        )
    except LookupError:
        abort(404)
    session.commit()
    return render_template(
        "audit/entries.html",
        filters=form,
        query=query,
        rows=trail.rows,
        page=trail.page,
        pages=trail.pages,
        total=trail.total,
        verification=verification,
        subject_url=subject_url,
        subject_names=subject_names(session, trail.rows),
        actor_names=actor_names(session, trail.rows),
        readable_details=readable_details,
        form=AppForm(),
    )


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


EXPORT_HEADER = (
    "seq",
    "id",
    "occurred_at_utc",
    "occurred_at_local",
    "actor",
    "actor_user_id",
    "action",
    "subject_type",
    "subject_id",
    "details",
    "entry_hash",
)


def _export_row(entry: AuditEntry, sees_confidential: bool) -> list[str]:
    detail = entry.detail
    if detail is not None and detail.redacted_at is not None:
        details = f"[redacted {detail.redacted_at.isoformat()}: {detail.redacted_reason}]"
    else:
        shown = details_of(entry, sees_confidential)
        details = "" if shown is None else json.dumps(shown, ensure_ascii=False)
    return [
        _csv_cell(value)
        for value in (
            entry.seq,
            entry.id,
            entry.occurred_at.isoformat(),
            format_local(entry.occurred_at, "%Y-%m-%d %H:%M:%S %Z"),
            entry.actor_label,
            entry.actor_user_id,
            entry.action,
            entry.subject_type,
            entry.subject_id,
            details,
            entry.entry_hash,
        )
    ]


@bp.route("/export.csv")
@require(AUDIT_ROLES, training=True)
def export():
    """The filtered entries as CSV, oldest first, streamed; the export is recorded first."""
    session = db_session()
    form = _filter_form(session)
    if not form.validate():
        flash("The export's filter is not valid; correct it and export again.", "error")
        return redirect(url_for("audit.entries", **request.args))
    trail_filter = _trail_filter(form)
    up_to_seq = record_export(session, acting_user(), trail_filter)
    session.commit()
    # Written to a spooled file (memory up to a bound, then disk) while the snapshot is open,
    # then sent: the transaction (a write lock on SQLite) ends before the download does.
    spool = tempfile.SpooledTemporaryFile(max_size=EXPORT_SPOOL_BYTES, mode="w+b")  # noqa: SIM115 (send_file closes it)
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(EXPORT_HEADER)
    sees_confidential = _sees_confidential()
    for entry in exported_entries(session, trail_filter, up_to_seq):
        writer.writerow(_export_row(entry, sees_confidential))
    session.rollback()
    text.flush()
    text.detach()
    spool.seek(0)
    return send_file(
        spool,
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"audit-trail-to-seq-{up_to_seq}.csv",
    )


@bp.route("/verify", methods=["POST"])
@require(AUDIT_ROLES, training=True)
def verify_now():
    """Verify the whole chain now and record the outcome (its own audit entry)."""
    form = AppForm()
    if not form.validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("audit.entries"))
    session = db_session()
    result = verify_and_record(session, acting_user())
    session.commit()
    flash(result.describe(), "success" if result.ok else "error")
    return redirect(url_for("audit.entries"))
