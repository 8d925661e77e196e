"""Investigations registry pages: list, open, detail, close, reopen.

Who: ALPR data roles open and close cases; records staff may look too, because they enter
exculpatory and ACP requests and holds against these case numbers. These pages show no reads,
but like every page of the ALPR blueprint they require current ALPR training (425.4(d)): case
numbers and titles of active investigations are confidential data of the ALPR system.
Reopening is for the Deputy Chief, the designee and ALPR administrators (425.3).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.auth.access import require
from app.auth.models import User, UserRole
from app.core.pages import acting_user, load_or_404, next_step_views
from app.core.refusal import Refusal, show_refusal
from app.core.timeutil import local_today
from app.db import db_session
from app.investigations.forms import (
    InvestigationCloseForm,
    InvestigationOpenForm,
    InvestigationReopenForm,
)
from app.investigations.models import Investigation, InvestigationStatus
from app.investigations.permissions import INVESTIGATION_PERMISSIONS, InvestigationAction
from app.investigations.services import (
    close_investigation,
    list_investigations,
    open_investigation,
    reopen_investigation,
)
from app.investigations.workflow import InvestigationMachine

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


def _detail(investigation: Investigation, status: int = 200, **forms: FlaskForm):
    """The case page with the steps its state allows the viewer (re-shown forms keep errors)."""
    step_forms = {
        "close": forms.get("close_form") or InvestigationCloseForm(closed_on=local_today()),
        "reopen": forms.get("reopen_form") or InvestigationReopenForm(),
    }
    steps = next_step_views(
        InvestigationMachine.around(investigation),
        acting_user(),
        step_forms,
        lambda event: url_for(f"investigations.{event}", investigation_id=investigation.id),
    )
    return render_template(
        "investigations/detail.html", investigation=investigation, steps=steps
    ), status


@bp.route("")
@require(INVESTIGATION_PERMISSIONS.roles(InvestigationAction.VIEW), training=True)
def index():
    """The registry, active cases first; `?status=active|closed` narrows it."""
    status = request.args.get("status", "")
    return render_template(
        "investigations/list.html",
        rows=list_investigations(db_session(), status or None),
        filters=[(s.value, s.value == status) for s in InvestigationStatus],
        may_open=INVESTIGATION_PERMISSIONS.allows(acting_user(), InvestigationAction.OPEN),
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
        f"Investigation {investigation.case_number} closed; its holds are no longer in force.",
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
