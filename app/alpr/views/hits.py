"""The operators' live hit-alert list and the steps on each hit (policy 425.4(f)).

Audit of viewing (425.6(e)) without flooding the trail: a full page load is always an entry
(``HITS_VIEWED``, trigger "page"), and so is opening one hit ("detail"). The list partial polls
every 5 seconds carrying the fingerprint of what it shows; when nothing changed the server
answers 204 (htmx keeps the table, nothing new was disclosed, no entry), and when the set or
state of hits changed it returns the new table and appends one entry (trigger "poll") with the
count and ids shown. So the trail records every distinct list an operator was shown, and an
idle screen left open all shift adds nothing.

The step forms live in a panel outside the polled table, so a refresh never wipes what an
operator is typing; HitMachine lists them (``next_step_views``) and the ``next_steps`` macro
renders them, each posting through htmx back into the panel. htmx swaps only 2xx responses,
so a refused step answers an htmx request with 200 and the reason in the panel; a plain form
post gets 422 and the same page.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from app.alpr.forms.hits import (
    HitCloseForm,
    HitEnforcementForm,
    HitImpracticableForm,
    HitNotValidForm,
    HitVerifiedForm,
)
from app.alpr.hits import (
    PAGE_SIZES,
    Verification,
    close_hit,
    confirm_hit,
    enforcement_refused,
    hit_history,
    hits_fingerprint,
    hits_of_case,
    live_hits,
    load_hit,
    mark_hit_not_valid,
    mark_verification_impracticable,
    record_enforcement_action,
    record_hits_viewed,
)
from app.alpr.permissions import ALPR_PERMISSIONS, AlprAction
from app.alpr.read_access import hit_context
from app.alpr.views import bp
from app.alpr.views.maps import read_points
from app.alpr.workflow import HitMachine
from app.auth.access import can_reach, require
from app.core.pages import (
    MAX_ROW_ID,
    StepLook,
    StepView,
    acting_user,
    next_step_views,
    requested_page,
)
from app.core.refusal import Refusal
from app.core.timeutil import display_zone, format_local, local_to_utc
from app.db import db_session, utcnow
from app.extensions import htmx
from app.investigations.models import Investigation
from app.investigations.sections import CaseItem, CaseSection, register_case_section
from app.reads.models import Hit

#: The url's step name → the machine's event it takes, and the form it posts.
EVENTS = {
    "confirm": "confirm",
    "not-valid": "mark_not_valid",
    "impracticable": "mark_impracticable",
    "enforcement": "record_enforcement",
    "close": "close",
}
URL_STEPS = {event: name for name, event in EVENTS.items()}
FORMS: dict[str, type[FlaskForm]] = {
    "confirm": HitVerifiedForm,
    "not-valid": HitNotValidForm,
    "impracticable": HitImpracticableForm,
    "enforcement": HitEnforcementForm,
    "close": HitCloseForm,
}

#: The panel's wording of each step.
LOOKS = {
    "confirm": StepLook(
        button="Verified valid",
        hint="Verify through MNJIS/NLETS before acting on the alert (policy 425.4(f)): the query "
        "showed it valid.",
    ),
    "mark_not_valid": StepLook(
        button="Verified not valid",
        hint="The query showed the alert is not valid: enforcement on it will be refused.",
    ),
    "mark_impracticable": StepLook(
        button="Verification not practicable",
        hint="Only where MNJIS/NLETS cannot be asked now: enforcement may then be recorded, "
        "with this reason (policy 425.4(f)).",
    ),
    "record_enforcement": StepLook(button="Record enforcement action"),
    "close": StepLook(button="Close hit"),
}

#: What the panel says once a step is recorded.
STEP_DONE = {
    "confirm": "verified valid",
    "not-valid": "verified not valid; enforcement on it is refused",
    "impracticable": "verification not practicable, reason recorded",
    "enforcement": "enforcement action recorded",
    "close": "closed",
}


def _blank_form(step: str) -> FlaskForm:
    """A step's empty form; a verification's query time starts at the current minute."""
    if step in ("confirm", "not-valid"):
        now = utcnow().astimezone(display_zone()).replace(tzinfo=None, second=0, microsecond=0)
        return FORMS[step](prefix=step, verified_at=now)
    return FORMS[step](prefix=step)


def _hit_or_404(hit_id: int) -> Hit:
    """The hit with its read, device and source loaded, or a 404 (also past 64-bit ids)."""
    hit = load_hit(db_session(), hit_id) if 0 < hit_id <= MAX_ROW_ID else None
    if hit is None:
        abort(404)
    return hit


def _steps(hit: Hit, overrides: dict[str, FlaskForm]) -> list[StepView]:
    """The steps the hit's state allows the viewer, each posting through htmx to the panel."""
    forms = {
        EVENTS[name]: overrides.get(name) or _blank_form(name)
        for name in EVENTS
        if not (name == "enforcement" and hit.enforcement_action)  # one per hit
    }
    return next_step_views(
        HitMachine.around(hit),
        acting_user(),
        forms,
        lambda event: url_for("alpr.hit_step", hit_id=hit.id, step=URL_STEPS[event]),
        looks=LOOKS,
        target="#hit-panel",
    )


def _panel(
    hit: Hit,
    status: int = 200,
    message: str | None = None,
    *,
    error: bool = False,
    **forms: FlaskForm,
):
    context = {
        "hit": hit,
        "read_via": hit_context(hit),
        "points": read_points([hit.read], hit_context(hit)),
        "enforcement_refused": enforcement_refused(hit),
        "steps": _steps(hit, forms),
        "history": hit_history(db_session(), hit),
        "message": message,
        "error": error,
    }
    if htmx:
        return render_template("alpr/_hit_panel.html", **context), 200
    return render_template("alpr/hit_detail.html", **context), status


@bp.route("/hits")
@require(ALPR_PERMISSIONS.roles(AlprAction.WORK_HITS), training=True)
def hits():
    """The live alert list; the htmx poll gets 204 when nothing it shows has changed."""
    session = db_session()
    show = "all" if request.args.get("show") == "all" else "open"
    result = live_hits(
        session,
        include_closed=show == "all",
        page=requested_page(),
        size=request.args.get("size", PAGE_SIZES[0], type=int),
    )
    fingerprint = hits_fingerprint(result.rows, result.total)
    if htmx and request.args.get("fp") == fingerprint:
        return "", 204
    record_hits_viewed(session, acting_user(), result.rows, "poll" if htmx else "page")
    session.commit()
    context = {
        "result": result,
        "rows": result.rows,
        "show": show,
        "fingerprint": fingerprint,
        "page_sizes": PAGE_SIZES,
    }
    if htmx:
        return render_template("alpr/_hits_table.html", **context)
    return render_template("alpr/hits.html", **context)


@bp.route("/hits/<int:hit_id>")
@require(ALPR_PERMISSIONS.roles(AlprAction.WORK_HITS), training=True)
def hit_detail(hit_id: int):
    """One hit with its history and the steps its state allows (a panel for htmx)."""
    session = db_session()
    hit = _hit_or_404(hit_id)
    record_hits_viewed(session, acting_user(), [hit], "detail")
    session.commit()
    return _panel(hit)


@bp.route(
    "/hits/<int:hit_id>/<any(confirm, 'not-valid', impracticable, enforcement, close):step>",
    methods=["POST"],
)
@require(ALPR_PERMISSIONS.roles(AlprAction.WORK_HITS), training=True)
def hit_step(hit_id: int, step: str):
    """Take one step on a hit; a refusal comes back as a clear message, nothing saved."""
    session = db_session()
    hit = _hit_or_404(hit_id)
    form = FORMS[step](prefix=step)
    if not form.validate_on_submit():
        return _panel(hit, 422, "Fill in the required fields.", error=True, **{step: form})
    actor = acting_user()
    try:
        if step in ("confirm", "not-valid"):
            verification = Verification(
                form.verified_via.data,
                form.verification_reference.data,
                local_to_utc(form.verified_at.data),
            )
            if step == "confirm":
                confirm_hit(session, actor, hit, verification, now=utcnow())
            else:
                mark_hit_not_valid(
                    session, actor, hit, verification, form.reason.data, now=utcnow()
                )
        elif step == "impracticable":
            mark_verification_impracticable(session, actor, hit, form.impracticable_reason.data)
        elif step == "enforcement":
            record_enforcement_action(session, actor, hit, form.action.data)
        else:
            close_hit(session, actor, hit, form.note.data)
    except Refusal as exc:
        session.rollback()
        field = form._fields.get(exc.field or "")
        if field is not None:  # also by the field it concerns (a query time before the read)
            field.errors = [*field.errors, str(exc)]
        return _panel(_hit_or_404(hit_id), 422, str(exc), error=True, **{step: form})
    session.commit()
    message = f"Hit {hit.id}: {STEP_DONE[step]}."
    if htmx:
        response = _panel(hit, message=message)[0]
        return response, 200, {"HX-Trigger": "hits-changed"}
    flash(message, "success")
    return redirect(url_for("alpr.hit_detail", hit_id=hit.id))


def _case_hits(session: Any, viewer: Any, investigation: Investigation):
    """Plates and times only to those who work hits (they open a hit anyway); others the count."""
    total, found = hits_of_case(session, investigation)
    works = can_reach(viewer, "alpr.hit_detail")
    return total, [
        CaseItem(
            f"Hit {hit.id} · {hit.read.plate or '—'}" if works else f"Hit {hit.id}",
            url_for("alpr.hit_detail", hit_id=hit.id) if works else None,
            f"{format_local(hit.read.captured_at)} · {hit.source.name} · {hit.status}"
            if works
            else hit.status,
        )
        for hit in found
    ]


register_case_section(
    CaseSection(
        "hits", 30, "Hits on the case's hotlists", "No hit on a hotlist of this case.", _case_hits
    )
)
