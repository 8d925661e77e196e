"""Search pages: the purpose-bound search form, result pages, and a plate's history.

Trained ALPR data roles only (425.4(d)); records staff, auditors and agencies never reach reads
here. A search is a POST (it is stored and audited), then its result pages are plain GETs of the
stored search, each audited; only the member who ran a search may page through it, because the
purpose stated is theirs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.alpr.forms.search import PlateHistoryForm, PurposeForm, SearchForm
from app.alpr.permissions import ALPR_PERMISSIONS, AlprAction
from app.alpr.read_access import search_context
from app.alpr.search import (
    KIND_PLATE_HISTORY,
    SearchCriteria,
    SearchError,
    SearchRefused,
    SearchRules,
    build_criteria,
    parse_plate_query,
    perform_search,
    recent_searches,
    searches_of_case,
    view_results,
)
from app.alpr.views import bp
from app.alpr.views.maps import deployment_points, read_points
from app.auth.access import require
from app.core.pages import acting_user, load_or_404
from app.core.timeutil import display_zone, format_local, local_to_utc
from app.db import db_session, read_session, utcnow
from app.investigations.models import Investigation
from app.investigations.sections import CaseItem, CaseSection, register_case_section
from app.reads.models import Deployment, Device, Search


def _local_naive(moment: datetime) -> datetime:
    return moment.astimezone(display_zone()).replace(tzinfo=None, second=0, microsecond=0)


def _default_window(form: PurposeForm, hours: float) -> None:
    """Prefill the last `hours`, ending at the next whole minute so the latest reads are in."""
    end = utcnow() + timedelta(minutes=1)
    form.start.data = _local_naive(end - timedelta(hours=hours))
    form.end.data = _local_naive(end)


def _search_choices(form: SearchForm) -> None:
    session = db_session()
    devices = session.scalars(select(Device).order_by(Device.serial))
    form.device_id.choices = [SelectChoice(0, "any device")] + [
        SelectChoice(d.id, f"{d.serial} ({d.kind})") for d in devices
    ]
    deployments = session.scalars(select(Deployment).order_by(Deployment.location_name))
    form.deployment_id.choices = [SelectChoice(0, "anywhere")] + [
        SelectChoice(d.id, f"{d.location_name} (from {d.started_on})") for d in deployments
    ]


def _attach(form: PurposeForm, error: SearchError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        form.form_errors.append(str(error))


def _run(form: PurposeForm, criteria: SearchCriteria):
    """Perform the search; on refusal keep the audited refusal and show it."""
    session = db_session()
    try:
        search = perform_search(
            session,
            acting_user(),
            criteria=criteria,
            purpose_category=form.purpose_category.data,
            purpose=form.purpose.data,
            case_number=form.case_number.data,
            rules=SearchRules.from_config(current_app.config),
            now=utcnow(),
            warrant_number=form.warrant_number.data,
            exigent_statement=form.exigent_statement.data,
            reader=read_session(),
        )
    except SearchRefused as exc:
        session.commit()
        return None, str(exc), 403
    except SearchError as exc:
        session.rollback()
        _attach(form, exc)
        return None, None, 422
    session.commit()
    return redirect(url_for("alpr.search_results", search_id=search.id)), None, 302


def _submit(form: PurposeForm, **criteria: Any):
    """Check the posted form, build its criteria and run the search.

    Returns (the redirect to its results or None, an audited refusal or None, the status).
    """
    if not form.validate_on_submit():
        return None, None, 422
    try:
        built = build_criteria(
            db_session(),
            start=local_to_utc(form.start.data),
            end=local_to_utc(form.end.data),
            now=utcnow(),
            max_window_days=current_app.config["RETENTION_DAYS"],
            **criteria,
        )
    except SearchError as exc:
        _attach(form, exc)
        return None, None, 422
    return _run(form, built)


@bp.route("/search", methods=["GET", "POST"])
@require(ALPR_PERMISSIONS.roles(AlprAction.USE_DATA), training=True)
def search():
    """The search form; a valid search is stored, audited and shown page by page."""
    form = SearchForm()
    _search_choices(form)
    refusal, status = None, 200
    if request.method == "GET":
        _default_window(form, 24)
    else:
        response, refusal, status = _submit(
            form,
            plate=form.plate.data,
            device_id=form.device_id.data or None,
            deployment_id=form.deployment_id.data or None,
            box=(form.min_lat.data, form.max_lat.data, form.min_lon.data, form.max_lon.data),
        )
        if response is not None:
            return response
    return render_template(
        "alpr/search.html",
        form=form,
        refusal=refusal,
        recent=recent_searches(db_session(), acting_user()),
        cameras=deployment_points(db_session()),
        tracking_hours=current_app.config["TRACKING_WINDOW_HOURS"],
        lookback_days=current_app.config["TRACKING_LOOKBACK_DAYS"],
    ), status


@bp.route("/searches/<int:search_id>")
@require(ALPR_PERMISSIONS.roles(AlprAction.USE_DATA), training=True)
def search_results(search_id: int):
    """One page of a stored search's results (`?page=N`), audited with its row count."""
    session = db_session()
    stored = load_or_404(Search, search_id)
    if stored.user_id != acting_user().id:
        abort(403, description="Only the member who ran a search may view its results.")
    try:
        result = view_results(
            session,
            acting_user(),
            stored,
            request.args.get("page", 1, type=int),
            reader=read_session(),
        )
    except SearchError as exc:
        session.rollback()
        abort(404, description=str(exc))
    session.commit()
    criteria = SearchCriteria.from_json(stored.criteria_json)
    via = search_context(stored)
    return render_template(
        "alpr/search_results.html",
        search=stored,
        criteria=criteria,
        device=session.get(Device, criteria.device_id) if criteria.device_id else None,
        deployment=session.get(Deployment, criteria.deployment_id)
        if criteria.deployment_id
        else None,
        result=result,
        via=via,
        points=read_points(result.rows, via),
    )


@bp.route("/plates/<plate>/history", methods=["GET", "POST"])
@require(ALPR_PERMISSIONS.roles(AlprAction.USE_DATA), training=True)
def plate_history(plate: str):
    """Every read of one plate: tracking (425.4.1(c)), so a warrant or exigency is required."""
    try:
        exact = parse_plate_query(plate)
    except SearchError as exc:
        abort(404, description=str(exc))
    if exact is None or "%" in exact:
        abort(404, description="A plate history needs one exact plate.")
    form = PlateHistoryForm()
    refusal, status = None, 200
    if request.method == "GET":
        # an hour short of the limit, so a daylight-saving change inside the window never exceeds it
        _default_window(form, current_app.config["RETENTION_DAYS"] * 24 - 1)
    else:
        response, refusal, status = _submit(form, plate=exact, kind=KIND_PLATE_HISTORY)
        if response is not None:
            return response
    return render_template(
        "alpr/plate_history.html", form=form, plate=exact, refusal=refusal
    ), status


def _case_searches(session: Any, viewer: Any, investigation: Investigation):
    """A search's results open only to who ran it; the others see that it was made."""
    total, found = searches_of_case(session, investigation)
    return total, [
        CaseItem(
            f"Search {search.id}",
            url_for("alpr.search_results", search_id=search.id)
            if search.user_id == viewer.id
            else None,
            f"{format_local(search.created_at)} · {search.user.name} · "
            f"{search.result_count} reads · {search.purpose}",
        )
        for search in found
    ]


register_case_section(
    CaseSection("searches", 20, "Searches", "No search was made for this case.", _case_searches)
)
