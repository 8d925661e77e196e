"""Investigations registry pages: list, open, detail, close, the disposition, reopen.

Who: ALPR data roles open and close cases; records staff may look too, because they enter
exculpatory and ACP requests and holds against these case numbers. These pages show no reads,
but like every page of the ALPR blueprint they require current ALPR training (425.4(d)): case
numbers and titles of active investigations are confidential data of the ALPR system.
What happens to a closed case's held data is decided by the Deputy Chief or designee, who see
the cases awaiting it on the list; reopening is for them and ALPR administrators (425.3).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from app.audit.actions import AuditAction
from app.auth.access import require
from app.auth.models import User, UserRole
from app.config import ScheduleCategory
from app.core.pages import StepLook, acting_user, load_or_404, next_step_views
from app.core.refusal import Refusal, show_refusal
from app.core.timeutil import local_today
from app.db import db_session
from app.investigations.forms import (
    CaseDataReleaseForm,
    CaseDataRetainForm,
    InvestigationCloseForm,
    InvestigationOpenForm,
    InvestigationReopenForm,
)
from app.investigations.models import Investigation, InvestigationStatus
from app.investigations.permissions import INVESTIGATION_PERMISSIONS, InvestigationAction
from app.investigations.sections import case_sections
from app.investigations.services import (
    close_investigation,
    list_investigations,
    open_investigation,
    release_case_data,
    reopen_investigation,
    retain_case_data,
)
from app.investigations.workflow import InvestigationMachine
from app.workflow.history import step_history

bp = Blueprint("investigations", __name__, url_prefix="/investigations")


def _lead_choices() -> list[SelectChoice]:
    leads = db_session().scalars(
        select(User)
        .join(UserRole)
        .where(
            UserRole.role.in_(
                [r.value for r in INVESTIGATION_PERMISSIONS.roles(InvestigationAction.OPEN)]
            ),
            User.is_active_account.is_(True),
        )
        .distinct()
        .order_by(User.name)
    )
    return [SelectChoice(0, "— none —")] + [
        SelectChoice(u.id, f"{u.name} ({u.email})") for u in leads
    ]


#: The case's steps as its history lists them, from the audit trail.
HISTORY_LABELS = {
    AuditAction.INVESTIGATION_OPENED: "Opened",
    AuditAction.INVESTIGATION_CLOSED: "Closed",
    AuditAction.INVESTIGATION_DATA_RETAINED: "Data kept under the schedule",
    AuditAction.INVESTIGATION_DATA_RELEASED: "Data released to the 60-day rule",
    AuditAction.INVESTIGATION_RETENTION_LAPSED: "Schedule ended: data released",
    AuditAction.INVESTIGATION_REOPENED: "Reopened",
}


def _schedule() -> tuple[ScheduleCategory, ...]:
    """The configured records-retention schedule (ALPR_RECORDS_SCHEDULE)."""
    return current_app.config["RECORDS_SCHEDULE"]


def _category_label(code: str | None) -> str:
    """A category's label as configured now; its code when the schedule no longer lists it."""
    return next((c.label for c in _schedule() if c.code == code), code or "")


def _retain_form(**kwargs: object) -> CaseDataRetainForm:
    form = CaseDataRetainForm(**kwargs)
    form.schedule_category.choices = [(c.code, f"{c.label} ({c.years} years)") for c in _schedule()]
    return form


def _disposition(investigation: Investigation) -> str | None:
    """What has become, or will become, of a closed case's held data, in words."""
    days = current_app.config["RETENTION_DAYS"]
    return {
        InvestigationStatus.CLOSED.value: (
            "Awaiting the Deputy Chief's or designee's decision: its holds keep their data "
            "until then (policy 425.5)."
        ),
        InvestigationStatus.RETAINED.value: (
            "Its held data is kept under the records-retention schedule until "
            f"{investigation.retain_until} (policy 425.5); then it falls back under the "
            f"{days}-day rule."
        ),
        InvestigationStatus.RELEASED.value: (
            f"Its held data was released to the {days}-day rule: its holds ended, so the purge "
            f"destroys the reads they kept once older than {days} days."
        ),
    }.get(investigation.status)


def _detail(investigation: Investigation, status: int = 200, **forms: FlaskForm):
    """The case page with the steps its state allows the viewer (re-shown forms keep errors)."""
    days = current_app.config["RETENTION_DAYS"]
    step_forms = {
        "close": forms.get("close_form") or InvestigationCloseForm(closed_on=local_today()),
        "retain": forms.get("retain_form") or _retain_form(formdata=None),
        "release_data": forms.get("release_form") or CaseDataReleaseForm(formdata=None),
        "reopen": forms.get("reopen_form") or InvestigationReopenForm(),
    }
    steps = next_step_views(
        InvestigationMachine.around(investigation),
        acting_user(),
        step_forms,
        lambda event: url_for(f"investigations.{event}", investigation_id=investigation.id),
        looks={
            "retain": StepLook(
                button="Keep under the schedule",
                hint="Its holds keep the data until the end date; it then falls back under "
                f"the {days}-day rule.",
            ),
            "release_data": StepLook(
                button="Release to the 60-day rule",
                hint=f"Its holds end now: the reads they kept that are older than {days} days "
                "become due for destruction and go at the next purge run, the others when "
                f"they reach {days} days. Reopening the case does not bring them back.",
            ),
        },
    )
    history = step_history(db_session(), investigation, HISTORY_LABELS, HISTORY_LABELS)
    return render_template(
        "investigations/detail.html",
        investigation=investigation,
        steps=steps,
        sections=case_sections(db_session(), acting_user(), investigation),
        disposition=_disposition(investigation),
        category_label=_category_label(investigation.schedule_category),
        history=history,
    ), status


@bp.route("")
@require(INVESTIGATION_PERMISSIONS.roles(InvestigationAction.VIEW), training=True)
def index():
    """The registry, active cases first; `?status=` narrows it to one state.

    The Deputy Chief and designee also see the closed cases awaiting their decision on what
    happens to the held data, longest waiting first.
    """
    status = request.args.get("status", "")
    session = db_session()
    may_dispose = INVESTIGATION_PERMISSIONS.allows(acting_user(), InvestigationAction.DISPOSE)
    awaiting = list_investigations(session, InvestigationStatus.CLOSED.value) if may_dispose else []
    return render_template(
        "investigations/list.html",
        rows=list_investigations(session, status or None),
        filters=[(s.value, s.name, s.value == status) for s in InvestigationMachine.states],
        may_open=INVESTIGATION_PERMISSIONS.allows(acting_user(), InvestigationAction.OPEN),
        may_dispose=may_dispose,
        awaiting=sorted(awaiting, key=lambda case: (case.closed_on, case.id)),
        today=local_today(),
    )


@bp.route("/new", methods=["GET", "POST"])
@require(INVESTIGATION_PERMISSIONS.roles(InvestigationAction.OPEN), training=True)
def new():
    """Register an active investigation."""
    form = InvestigationOpenForm()
    form.lead_id.choices = _lead_choices()
    if request.method == "GET" and form.opened_on.data is None:
        form.opened_on.data = local_today()
    if form.validate_on_submit():
        session = db_session()
        lead = session.get(User, form.lead_id.data) if form.lead_id.data else None
        try:
            investigation = open_investigation(
                session,
                acting_user(),
                case_number=form.case_number.data,
                title=form.title.data,
                opened_on=form.opened_on.data,
                lead=lead,
            )
        except Refusal as exc:
            session.rollback()
            show_refusal(form, exc, "case_number")
        else:
            session.commit()
            flash(f"Investigation {investigation.case_number} opened.", "success")
            return redirect(url_for("investigations.detail", investigation_id=investigation.id))
    status = 422 if request.method == "POST" else 200
    return render_template("investigations/new.html", form=form), status


@bp.route("/<int:investigation_id>")
@require(INVESTIGATION_PERMISSIONS.roles(InvestigationAction.VIEW), training=True)
def detail(investigation_id: int):
    """One case: its dates, lead, and the close or reopen form for those who may use it."""
    return _detail(load_or_404(Investigation, investigation_id))


@bp.route("/<int:investigation_id>/close", methods=["GET", "POST"])
@require(INVESTIGATION_PERMISSIONS.roles(InvestigationAction.CLOSE), training=True)
def close(investigation_id: int):
    """Close a case with a reason (GET shows the detail page holding the form)."""
    investigation = load_or_404(Investigation, investigation_id)
    form = InvestigationCloseForm()
    if request.method == "GET":
        return _detail(investigation)
    if not form.validate_on_submit():
        return _detail(investigation, 422, close_form=form)
    session = db_session()
    try:
        close_investigation(
            session,
            acting_user(),
            investigation,
            form.reason.data,
            form.closed_on.data,
        )
    except Refusal as exc:
        session.rollback()
        show_refusal(form, exc)
        return _detail(load_or_404(Investigation, investigation_id), 422, close_form=form)
    session.commit()
    flash(
        f"Investigation {investigation.case_number} closed; its holds keep their data until the "
        "Deputy Chief or designee decide what happens to it.",
        "success",
    )
    return redirect(url_for("investigations.detail", investigation_id=investigation.id))


@bp.route("/<int:investigation_id>/reopen", methods=["POST"])
@require(INVESTIGATION_PERMISSIONS.roles(InvestigationAction.REOPEN), training=True)
def reopen(investigation_id: int):
    """Reopen a closed case (Deputy Chief, designee or administrator, with a reason)."""
    investigation = load_or_404(Investigation, investigation_id)
    form = InvestigationReopenForm()
    if not form.validate_on_submit():
        return _detail(investigation, 422, reopen_form=form)
    session = db_session()
    try:
        reopen_investigation(session, acting_user(), investigation, form.reason.data)
    except Refusal as exc:
        session.rollback()
        show_refusal(form, exc)
        return _detail(load_or_404(Investigation, investigation_id), 422, reopen_form=form)
    session.commit()
    flash(f"Investigation {investigation.case_number} reopened.", "success")
    return redirect(url_for("investigations.detail", investigation_id=investigation.id))


def _disposition_step(
    investigation_id: int,
    form: FlaskForm,
    form_name: str,
    take: Callable[[Session, Investigation], str],
):
    """Take one disposition step, or re-show the case page (422) with the message at its field.

    Nothing is saved when the form or the service refuses (the session is rolled back).
    """
    investigation = load_or_404(Investigation, investigation_id)
    if not form.validate_on_submit():
        return _detail(investigation, 422, **{form_name: form})
    session = db_session()
    try:
        message = take(session, investigation)
    except Refusal as exc:
        session.rollback()
        show_refusal(form, exc)
        return _detail(load_or_404(Investigation, investigation_id), 422, **{form_name: form})
    session.commit()
    flash(message, "success")
    return redirect(url_for("investigations.detail", investigation_id=investigation_id))


@bp.route("/<int:investigation_id>/retain", methods=["POST"])
@require(INVESTIGATION_PERMISSIONS.roles(InvestigationAction.DISPOSE), training=True)
def retain(investigation_id: int):
    """Keep a closed case's held data under a schedule category (Deputy Chief, designee)."""
    form = _retain_form()

    def take(session: Session, investigation: Investigation) -> str:
        retain_case_data(
            session,
            acting_user(),
            investigation,
            schedule=_schedule(),
            category=form.schedule_category.data,
            retain_until=form.retain_until.data,
        )
        return (
            f"Investigation {investigation.case_number}: its held data is kept until "
            f"{investigation.retain_until} ({_category_label(investigation.schedule_category)})."
        )

    return _disposition_step(investigation_id, form, "retain_form", take)


@bp.route("/<int:investigation_id>/release-data", methods=["POST"])
@require(INVESTIGATION_PERMISSIONS.roles(InvestigationAction.DISPOSE), training=True)
def release_data(investigation_id: int):
    """Release a closed case's held data to the 60-day rule (Deputy Chief, designee; final)."""

    def take(session: Session, investigation: Investigation) -> str:
        release_case_data(session, acting_user(), investigation)
        days = current_app.config["RETENTION_DAYS"]
        return (
            f"Investigation {investigation.case_number}: its holds ended; the reads they kept "
            f"that are older than {days} days go at the next purge run."
        )

    return _disposition_step(investigation_id, CaseDataReleaseForm(), "release_form", take)
