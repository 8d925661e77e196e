"""Investigations registry pages: list, open, detail, close, reopen.

Who: ALPR data roles open and close cases; records staff may look too, because they enter
exculpatory and ACP requests and holds against these case numbers. These pages show no reads,
but like every page of the ALPR blueprint they require current ALPR training (425.4(d)): case
numbers and titles of active investigations are confidential data of the ALPR system.
Reopening is for the Deputy Chief, the designee and ALPR administrators (425.3).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.auth.access import ALPR_DATA_ROLES, require
from app.auth.models import Role, User, UserRole
from app.core.refusal import show_refusal
from app.core.timeutil import local_today
from app.db import db_session
from app.investigations.forms import (
    InvestigationCloseForm,
    InvestigationOpenForm,
    InvestigationReopenForm,
)
from app.investigations.models import Investigation, InvestigationStatus
from app.investigations.services import (
    InvestigationError,
    close_investigation,
    list_investigations,
    open_investigation,
    reopen_investigation,
)
from app.investigations.workflow import REOPEN_ROLES

bp = Blueprint("investigations", __name__, url_prefix="/investigations")

#: Who may see the registry: the ALPR data roles and records staff.
REGISTRY_VIEW_ROLES = ALPR_DATA_ROLES | {Role.RECORDS}


def _investigation_or_404(investigation_id: int) -> Investigation:
    investigation = db_session().get(Investigation, investigation_id)
    if investigation is None:
        abort(404)
    return investigation


def _lead_choices() -> list[SelectChoice]:
    leads = db_session().scalars(
        select(User)
        .join(UserRole)
        .where(
            UserRole.role.in_([r.value for r in ALPR_DATA_ROLES]),
            User.is_active_account.is_(True),
        )
        .distinct()
        .order_by(User.name)
    )
    return [SelectChoice(0, "— none —")] + [
        SelectChoice(u.id, f"{u.name} ({u.email})") for u in leads
    ]


def _detail(investigation: Investigation, status: int = 200, **forms):
    defaults = {
        "close_form": InvestigationCloseForm(closed_on=local_today()),
        "reopen_form": InvestigationReopenForm(),
    }
    defaults.update(forms)
    may_reopen = current_user.has_role(*REOPEN_ROLES)
    may_close = current_user.has_role(*ALPR_DATA_ROLES)
    return (
        render_template(
            "investigations/detail.html",
            investigation=investigation,
            may_close=may_close,
            may_reopen=may_reopen,
            **defaults,
        ),
        status,
    )


@bp.route("")
@require(REGISTRY_VIEW_ROLES, training=True)
def index():
    """The registry, active cases first; `?status=active|closed` narrows it."""
    status = request.args.get("status", "")
    return render_template(
        "investigations/list.html",
        rows=list_investigations(db_session(), status or None),
        status=status,
        statuses=[s.value for s in InvestigationStatus],
        may_open=current_user.has_role(*ALPR_DATA_ROLES),
    )


@bp.route("/new", methods=["GET", "POST"])
@require(ALPR_DATA_ROLES, training=True)
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
                current_user._get_current_object(),
                case_number=form.case_number.data,
                title=form.title.data,
                opened_on=form.opened_on.data,
                lead=lead,
            )
        except InvestigationError as exc:
            session.rollback()
            show_refusal(form, exc, "case_number")
        else:
            session.commit()
            flash(f"Investigation {investigation.case_number} opened.", "success")
            return redirect(url_for("investigations.detail", investigation_id=investigation.id))
    status = 400 if request.method == "POST" else 200
    return render_template("investigations/new.html", form=form), status


@bp.route("/<int:investigation_id>")
@require(REGISTRY_VIEW_ROLES, training=True)
def detail(investigation_id: int):
    """One case: its dates, lead, and the close or reopen form for those who may use it."""
    return _detail(_investigation_or_404(investigation_id))


@bp.route("/<int:investigation_id>/close", methods=["GET", "POST"])
@require(ALPR_DATA_ROLES, training=True)
def close(investigation_id: int):
    """Close a case with a reason (GET shows the detail page holding the form)."""
    investigation = _investigation_or_404(investigation_id)
    form = InvestigationCloseForm()
    if request.method == "GET":
        return _detail(investigation)
    if not form.validate_on_submit():
        return _detail(investigation, 400, close_form=form)
    session = db_session()
    try:
        close_investigation(
            session,
            current_user._get_current_object(),
            investigation,
            form.reason.data,
            form.closed_on.data,
        )
    except InvestigationError as exc:
        session.rollback()
        show_refusal(form, exc, "reason")
        return _detail(_investigation_or_404(investigation_id), 400, close_form=form)
    session.commit()
    flash(
        f"Investigation {investigation.case_number} closed; its holds are no longer in force.",
        "success",
    )
    return redirect(url_for("investigations.detail", investigation_id=investigation.id))


@bp.route("/<int:investigation_id>/reopen", methods=["POST"])
@require(REOPEN_ROLES, training=True)
def reopen(investigation_id: int):
    """Reopen a closed case (Deputy Chief, designee or administrator, with a reason)."""
    investigation = _investigation_or_404(investigation_id)
    form = InvestigationReopenForm()
    if not form.validate_on_submit():
        return _detail(investigation, 400, reopen_form=form)
    session = db_session()
    try:
        reopen_investigation(
            session, current_user._get_current_object(), investigation, form.reason.data
        )
    except InvestigationError as exc:
        session.rollback()
        form.reason.errors.append(str(exc))
        return _detail(_investigation_or_404(investigation_id), 400, reopen_form=form)
    session.commit()
    flash(f"Investigation {investigation.case_number} reopened.", "success")
    return redirect(url_for("investigations.detail", investigation_id=investigation.id))
