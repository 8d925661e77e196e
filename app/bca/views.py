"""BCA notice pages (policy 425.4.1(d)): the dashboard, a notice, its letter, its steps.

Who: the Deputy Chief, the designee and the ALPR administrator record sending and
acknowledgement; auditors look. Notices open by themselves (app.bca.services), never here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from app.audit.exports import exported_list_csv
from app.auth.access import require
from app.bca.forms import BcaAcknowledgeForm, BcaSendForm
from app.bca.models import BcaNotice
from app.bca.permissions import BCA_PERMISSIONS, BcaAction
from app.bca.services import (
    DUE_SOON_DAYS,
    dashboard,
    draft_letter,
    is_overdue,
    notice_history,
    record_notice_acknowledged,
    record_notice_sent,
)
from app.bca.workflow import BcaNoticeMachine
from app.core.pages import acting_user, load_or_404, next_step_views, send_stored_document
from app.core.refusal import Refusal, show_refusal
from app.core.timeutil import local_today
from app.db import db_session

bp = Blueprint("bca", __name__, url_prefix="/bca")

#: event → the form of its step, empty (dates default to today).
STEP_FORMS: dict[str, Callable[[], FlaskForm]] = {
    "send_notice": lambda: BcaSendForm(formdata=None, sent_on=local_today()),
    "acknowledge": lambda: BcaAcknowledgeForm(formdata=None, acknowledged_on=local_today()),
}


def _department() -> str:
    return current_app.config["DEPARTMENT_NAME"]


def _detail(notice: BcaNotice, status: int = 200, **sent: FlaskForm) -> Any:
    """The notice, its timeline and the steps the viewer may take (a sent form keeps errors)."""
    forms = {event: sent.get(event) or make() for event, make in STEP_FORMS.items()}
    steps = next_step_views(
        BcaNoticeMachine.around(notice),
        acting_user(),
        forms,
        lambda event: url_for(f"bca.{event}", notice_id=notice.id),
    )
    today = local_today()
    return render_template(
        "bca/detail.html",
        notice=notice,
        steps=steps,
        history=notice_history(db_session(), notice),
        days_left=notice.days_left(today),
        overdue=is_overdue(notice, today),
    ), status


@bp.route("/")
@require(BCA_PERMISSIONS.roles(BcaAction.VIEW), training=True)
def index():
    """Every notice: overdue and due soon first, with the days left."""
    return render_template(
        "bca/dashboard.html",
        board=dashboard(db_session(), local_today()),
        due_soon_days=DUE_SOON_DAYS,
    )


@bp.route("/<int:notice_id>")
@require(BCA_PERMISSIONS.roles(BcaAction.VIEW), training=True)
def detail(notice_id: int):
    """One notice: its event, deadline, letter, timeline and next steps."""
    return _detail(load_or_404(BcaNotice, notice_id))


@bp.route("/<int:notice_id>/letter.pdf")
@require(BCA_PERMISSIONS.roles(BcaAction.VIEW), training=True)
def letter(notice_id: int):
    """The letter as sent (the kept copy), or a draft to send while the notice is open."""
    notice = load_or_404(BcaNotice, notice_id)
    name = f"bca-notice-{notice.id}.pdf"
    if notice.letter_sha256:
        return send_stored_document(
            notice.letter_sha256, mimetype="application/pdf", download_name=name
        )
    pdf = draft_letter(notice, department=_department(), today=local_today())
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="draft-{name}"'},
    )


def _step(
    notice_id: int,
    event: str,
    form: FlaskForm,
    take: Callable[[Session, BcaNotice], Any],
    message: str,
) -> Any:
    """Take one step, or show the notice again (422) with the reason at its field.

    Nothing is saved on a refusal (the session is rolled back; the machine refuses before the
    letter is printed); a stale CSRF token is a 400.
    """
    notice = load_or_404(BcaNotice, notice_id)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _detail(notice, 422, **{event: form})
    session = db_session()
    try:
        taken = take(session, notice)
        session.commit()
    except Refusal as exc:
        session.rollback()
        show_refusal(form, exc)
        return _detail(load_or_404(BcaNotice, notice_id), 422, **{event: form})
    flash(message.format(notice=taken), "success")
    return redirect(url_for("bca.detail", notice_id=notice_id))


@bp.route("/<int:notice_id>/send", methods=["POST"])
@require(BCA_PERMISSIONS.roles(BcaAction.SEND), training=True)
def send_notice(notice_id: int):
    """Open → sent: the sending's facts; the letter is printed and kept."""
    form = BcaSendForm()
    return _step(
        notice_id,
        "send_notice",
        form,
        lambda session, notice: record_notice_sent(
            session,
            acting_user(),
            notice,
            sent_on=form.sent_on.data,
            sent_method=form.sent_method.data,
            sent_to=form.sent_to.data,
            sent_reference=form.sent_reference.data,
            department=_department(),
        ),
        "Notice {notice.id} recorded as sent; the letter is kept with it.",
    )


@bp.route("/<int:notice_id>/acknowledge", methods=["POST"])
@require(BCA_PERMISSIONS.roles(BcaAction.ACKNOWLEDGE), training=True)
def acknowledge(notice_id: int):
    """Sent → acknowledged (final)."""
    form = BcaAcknowledgeForm()
    return _step(
        notice_id,
        "acknowledge",
        form,
        lambda session, notice: record_notice_acknowledged(
            session,
            acting_user(),
            notice,
            acknowledged_on=form.acknowledged_on.data,
            acknowledgement_note=form.acknowledgement_note.data,
        ),
        "Acknowledgement of notice {notice.id} recorded.",
    )


@bp.route("/notices.csv")
@require(BCA_PERMISSIONS.roles(BcaAction.VIEW), training=True)
def notices_export():
    """Every BCA notice as CSV, with its deadline as the dashboard states it; audited."""
    session = db_session()
    rows = dashboard(session, local_today()).rows
    return exported_list_csv(
        session,
        acting_user(),
        "bca_notices",
        "bca-notices.csv",
        (
            "notice_id",
            "event",
            "device",
            "event_on",
            "due_on",
            "status",
            "deadline",
            "sent_on",
            "sent_method",
            "acknowledged_on",
        ),
        rows,
        lambda r: [
            r.notice.id,
            r.notice.event,
            r.notice.device.serial,
            r.notice.event_on,
            r.notice.due_on,
            r.notice.status,
            r.deadline,
            r.notice.sent_on,
            r.notice.sent_method,
            r.notice.acknowledged_on,
        ],
    )
