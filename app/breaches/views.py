"""Breach incident pages (policy 425.6(d), Minn. Stat. § 13.055): list, report, detail, steps.

Who: any trained staff member reports a breach; the Deputy Chief or designee investigate,
record the notification and complete the report; auditors and ALPR administrators look.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.access import require
from app.breaches.forms import (
    BreachCompleteReportForm,
    BreachInvestigateForm,
    BreachNotifyForm,
    BreachReportForm,
)
from app.breaches.models import BreachIncident
from app.breaches.permissions import BREACH_PERMISSIONS, BreachAction
from app.breaches.services import (
    breach_history,
    complete_breach_report,
    list_breaches,
    record_breach_notification,
    report_breach,
    start_breach_investigation,
)
from app.breaches.workflow import BreachMachine
from app.core.pages import acting_user, load_or_404, next_step_views
from app.core.refusal import Refusal, show_refusal
from app.core.timeutil import local_to_utc, local_today
from app.db import db_session

bp = Blueprint("breaches", __name__, url_prefix="/breaches")

#: event → the form of its step, empty (dates default to today).
STEP_FORMS: dict[str, Callable[[], FlaskForm]] = {
    "investigate": lambda: BreachInvestigateForm(formdata=None),
    "notify": lambda: BreachNotifyForm(formdata=None, notified_on=local_today()),
    "complete_report": lambda: BreachCompleteReportForm(
        formdata=None, report_completed_on=local_today()
    ),
}


def _detail(incident: BreachIncident, status: int = 200, **sent: FlaskForm) -> Any:
    """The incident, its timeline and the steps the viewer may take (a sent form keeps errors)."""
    forms = {event: sent.get(event) or make() for event, make in STEP_FORMS.items()}
    steps = next_step_views(
        BreachMachine.around(incident),
        acting_user(),
        forms,
        lambda event: url_for(f"breaches.{event}", incident_id=incident.id),
    )
    history = breach_history(db_session(), incident)
    return render_template(
        "breaches/detail.html", incident=incident, steps=steps, history=history
    ), status


@bp.route("")
@require(BREACH_PERMISSIONS.roles(BreachAction.VIEW), training=True)
def index():
    """Every breach incident, newest discovery first."""
    return render_template(
        "breaches/list.html",
        rows=list_breaches(db_session()),
        may_report=BREACH_PERMISSIONS.allows(acting_user(), BreachAction.REPORT),
    )


@bp.route("/new", methods=["GET", "POST"])
@require(BREACH_PERMISSIONS.roles(BreachAction.REPORT), training=True)
def new():
    """Report a discovered breach; the same form sent twice is one incident."""
    form = BreachReportForm()
    if request.method == "GET":
        form.submission_key.data = uuid.uuid4().hex
        return render_template("breaches/new.html", form=form)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return render_template("breaches/new.html", form=form), 422
    session = db_session()
    try:
        incident = _report(session, form)
    except Refusal as exc:
        session.rollback()
        show_refusal(form, exc, "description")
        return render_template("breaches/new.html", form=form), 422
    session.commit()
    flash(f"Breach incident {incident.id} reported.", "success")
    if BREACH_PERMISSIONS.allows(acting_user(), BreachAction.VIEW):
        return redirect(url_for("breaches.detail", incident_id=incident.id))
    flash("The Deputy Chief or designee takes it from here (Minn. Stat. § 13.055).", "success")
    return redirect(url_for("breaches.new"))


def _report(session: Session, form: BreachReportForm) -> BreachIncident:
    """Report through the service; a twin sent at the same moment finds the first's incident."""
    fields = {
        "discovered_at": local_to_utc(form.discovered_at.data),
        "description": form.description.data,
        "data_involved": form.data_involved.data,
        "unauthorised_person": form.unauthorised_person.data,
        "submission_key": form.submission_key.data,
    }
    try:
        return report_breach(session, acting_user(), **fields)
    except IntegrityError:
        session.rollback()
        return report_breach(session, acting_user(), **fields)


@bp.route("/<int:incident_id>")
@require(BREACH_PERMISSIONS.roles(BreachAction.VIEW), training=True)
def detail(incident_id: int):
    """One incident: what happened, its timeline, and the next steps the viewer may take."""
    return _detail(load_or_404(BreachIncident, incident_id))


def _step(
    incident_id: int,
    event: str,
    form: FlaskForm,
    take: Callable[[Session, BreachIncident], Any],
    message: str,
) -> Any:
    """Take one step, or show the incident again (422) with the reason at its field.

    Nothing is saved on a refusal (the session is rolled back); a stale CSRF token is a 400.
    """
    incident = load_or_404(BreachIncident, incident_id)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _detail(incident, 422, **{event: form})
    session = db_session()
    try:
        take(session, incident)
    except Refusal as exc:
        session.rollback()
        show_refusal(form, exc)
        return _detail(load_or_404(BreachIncident, incident_id), 422, **{event: form})
    session.commit()
    flash(message, "success")
    return redirect(url_for("breaches.detail", incident_id=incident_id))


@bp.route("/<int:incident_id>/investigate", methods=["POST"])
@require(BREACH_PERMISSIONS.roles(BreachAction.INVESTIGATE), training=True)
def investigate(incident_id: int):
    """Reported → investigating."""
    return _step(
        incident_id,
        "investigate",
        BreachInvestigateForm(),
        lambda session, incident: start_breach_investigation(session, acting_user(), incident),
        "Investigation started.",
    )


@bp.route("/<int:incident_id>/notify", methods=["POST"])
@require(BREACH_PERMISSIONS.roles(BreachAction.NOTIFY), training=True)
def notify(incident_id: int):
    """Investigating → individuals notified: the findings and the notice given."""
    form = BreachNotifyForm()
    return _step(
        incident_id,
        "notify",
        form,
        lambda session, incident: record_breach_notification(
            session,
            acting_user(),
            incident,
            findings=form.findings.data,
            notified_on=form.notified_on.data,
            notification_method=form.notification_method.data,
            individuals_notified=form.individuals_notified.data,
        ),
        "Notification recorded.",
    )


@bp.route("/<int:incident_id>/complete-report", methods=["POST"])
@require(BREACH_PERMISSIONS.roles(BreachAction.COMPLETE_REPORT), training=True)
def complete_report(incident_id: int):
    """Individuals notified → report completed (final)."""
    form = BreachCompleteReportForm()
    return _step(
        incident_id,
        "complete_report",
        form,
        lambda session, incident: complete_breach_report(
            session,
            acting_user(),
            incident,
            report_summary=form.report_summary.data,
            report_completed_on=form.report_completed_on.data,
        ),
        "Report completed.",
    )
