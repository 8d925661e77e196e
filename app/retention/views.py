"""Retention pages (425.5): dashboard, holds, exculpatory and ACP requests. Thin views."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.exports import exported_list_csv
from app.audit.services import record
from app.auth.access import can_reach, require
from app.core.forms import confirmation_named
from app.core.pages import (
    StepLook,
    StepView,
    acting_user,
    load_or_404,
    next_step_views,
    requested_page,
    send_stored_document,
)
from app.core.refusal import Refusal, show_refusal
from app.core.timeutil import format_local, local_to_utc
from app.db import db_session, utcnow
from app.investigations.models import Investigation, InvestigationStatus
from app.investigations.sections import CaseItem, CaseSection, register_case_section
from app.jobs.models import JobRun
from app.jobs.services import create_run, latest_run
from app.reads.models import Device
from app.retention import exculpatory, listing
from app.retention.acp import lifecycle as acp
from app.retention.backups import restore_pending
from app.retention.dashboard import retention_overview
from app.retention.documents import (
    DocumentRejected,
    IncomingDocument,
    inspect_document,
    remove_unreferenced_document,
)
from app.retention.forms import (
    AcpDeclineForm,
    AcpDestroyExistingForm,
    AcpEndForm,
    AcpRequestForm,
    ExculpatoryDeclineForm,
    ExculpatoryReleaseForm,
    ExculpatoryRequestForm,
    HoldForm,
    ReleaseHoldForm,
    RequestStepForm,
)
from app.retention.holds import HoldError, hold_steps, holds_of_case, place_hold, release_hold
from app.retention.models import (
    AcpRequest,
    ExculpatoryRequest,
    Hold,
    StoredDocument,
)
from app.retention.permissions import RETENTION_PERMISSIONS, RetentionAction
from app.retention.policy import PURGE_CRON
from app.retention.workflow import AcpMachine, ExculpatoryMachine, HoldMachine
from workers.queue import enqueue_run
from workers.retention import destroy_acp_existing_data

bp = Blueprint("retention", __name__, url_prefix="/retention")

T = TypeVar("T")


#: Seconds a client is told to wait while a restore runs.
RESTORE_RETRY_AFTER = 60


def refuse_while_restoring() -> Any:
    """before_request: answer nobody while a restore has not re-applied every destruction.

    A restored backup holds reads destroyed since it was taken until the restore has destroyed
    them again (app.retention.backups); serving meanwhile would hand them out.
    """
    if not restore_pending(current_app.config["INSTANCE_PATH"]):
        return None
    response = current_app.make_response(
        ("A backup is being restored; the records are unavailable until it finishes.", 503)
    )
    response.headers["Retry-After"] = str(RESTORE_RETRY_AFTER)
    return response


def may(action: str) -> bool:
    """Whether the signed-in person may take `action` (a RetentionAction's value).

    Templates ask it, so a button or link is shown exactly to the people whose press of it
    would be accepted; the role sets live only in :mod:`app.retention.permissions`.
    """
    return RETENTION_PERMISSIONS.allows(acting_user(), RetentionAction(action))


def _purge_time() -> tuple[int, int]:
    minute, hour = PURGE_CRON.split()[:2]
    return int(hour), int(minute)


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _when(form_field: Any) -> datetime | None:
    """A picked local time as UTC, or None (the service then says the window is unbounded)."""
    return local_to_utc(form_field.data) if form_field.data is not None else None


def _devices() -> list[tuple[int, str]]:
    return [(d.id, d.serial) for d in db_session().scalars(select(Device).order_by(Device.serial))]


def _document(form: Any) -> IncomingDocument | None:
    """The scan if one was sent, checked by content only: the service writes it once valid.

    Without a scan, the reference of the paper original must show the written request.
    """
    upload = form.document.data
    if upload is None:
        return None
    try:
        return inspect_document(upload.read(), upload.filename or "request")
    except DocumentRejected as exc:
        form.document.errors.append(str(exc))
        raise


def _enter(session: Session, document: IncomingDocument | None, enter: Callable[[], T]) -> T:
    """Enter a request and commit; on any failure roll back and take the scan's file back.

    A refused request never wrote the file; a failure after the write (a flush, the audit entry,
    the commit) would otherwise leave the person's scan on disk with no row naming it.
    """
    try:
        entered = enter()
        session.commit()
    except BaseException:
        session.rollback()
        if document is not None:
            remove_unreferenced_document(session, document.sha256)
            session.commit()
        raise
    return entered


@bp.route("/")
@require(RETENTION_PERMISSIONS.roles(RetentionAction.VIEW), training=True)
def dashboard():
    """Reads by age, the next purge, holds and suppressions, and the compliance line."""
    session = db_session()
    overview = retention_overview(
        session, utcnow(), current_app.config["RETENTION_DAYS"], _purge_time()
    )
    record(
        session, acting_user(), AuditAction.RETENTION_VIEWED, ("page", "retention.dashboard"), {}
    )
    session.commit()
    return render_template(
        "retention/dashboard.html",
        o=overview,
        retention_days=current_app.config["RETENTION_DAYS"],
        acp_requests=session.scalars(select(AcpRequest).order_by(AcpRequest.id.desc())).all(),
        exculpatory_requests=session.scalars(
            select(ExculpatoryRequest).order_by(ExculpatoryRequest.id.desc())
        ).all(),
        may=may,
    )


# --- investigation holds ------------------------------------------------------------------


@bp.route("/holds/new", methods=["GET", "POST"])
@require(RETENTION_PERMISSIONS.roles(RetentionAction.PLACE_HOLDS), training=True)
def hold_new():
    """Place an investigation hold on a bounded scope."""
    session = db_session()
    form = HoldForm()
    active = session.scalars(
        select(Investigation)
        .where(Investigation.status == InvestigationStatus.ACTIVE.value)
        .order_by(Investigation.case_number)
    ).all()
    form.investigation_id.choices = [(i.id, f"{i.case_number} — {i.title}") for i in active]
    form.device_ids.choices = _devices()
    if form.validate_on_submit():
        try:
            hold = place_hold(
                session,
                acting_user(),
                load_or_404(Investigation, form.investigation_id.data),
                _when(form.window_start),
                _when(form.window_end),
                plates=_lines(form.plates.data),
                device_ids=form.device_ids.data or [],
                description=form.description.data or "",
            )
        except HoldError as exc:
            session.rollback()
            show_refusal(form, exc)
        else:
            session.commit()
            flash(f"Hold {hold.id} placed.", "success")
            return redirect(url_for("retention.dashboard"))
    status = 422 if form.is_submitted() else 200
    return render_template("retention/hold_new.html", form=form), status


@bp.route("/holds/<int:hold_id>/release", methods=["GET", "POST"])
@require(RETENTION_PERMISSIONS.roles(RetentionAction.RELEASE_HOLDS), training=True)
def hold_release(hold_id: int):
    """Release an investigation hold early, with a reason and the "cannot be undone" tick."""
    session = db_session()
    hold = load_or_404(Hold, hold_id)
    form = ReleaseHoldForm()
    if form.validate_on_submit():
        try:
            release_hold(session, acting_user(), hold, form.reason.data)
        except Refusal as exc:
            session.rollback()
            show_refusal(form, exc)
        else:
            session.commit()
            flash(f"Hold {hold.id} released.", "success")
            return redirect(url_for("retention.dashboard"))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "retention/hold_release.html", hold=hold, steps=_hold_steps(hold, form)
    ), status


def _hold_steps(hold: Hold, form: ReleaseHoldForm) -> list[StepView]:
    """The release step, when the hold takes one (an exculpatory hold ends with its request)."""
    actor = acting_user()
    return next_step_views(
        HoldMachine.around(hold),
        actor,
        {"release": form} if "release" in hold_steps(actor, hold) else {},
        lambda _event: url_for("retention.hold_release", hold_id=hold.id),
        looks={
            "release": StepLook(
                button="Release hold",
                hint="The data in its scope falls back under the retention rule and goes at "
                "the next purge if it is older.",
            )
        },
    )


# --- ACP requests -------------------------------------------------------------------------


@bp.route("/acp/new", methods=["GET", "POST"])
@require(RETENTION_PERMISSIONS.roles(RetentionAction.ENTER_REQUESTS))
def acp_new():
    """Enter an ACP participant's written request."""
    session = db_session()
    form = AcpRequestForm()
    if form.validate_on_submit():
        try:
            document = _document(form)
            request_ = _enter(
                session,
                document,
                lambda: acp.receive_acp_request(
                    session,
                    acting_user(),
                    participant_number=form.participant_number.data,
                    plates=_lines(form.plates.data),
                    received_on=form.received_on.data,
                    document=document,
                    paper_original=form.paper_original.data,
                ),
            )
        except acp.AcpError as exc:
            show_refusal(form, exc)
        except DocumentRejected:
            pass
        else:
            flash(f"ACP request {request_.id} received: its plates are suppressed.", "success")
            return redirect(url_for("retention.acp_detail", request_id=request_.id))
    status = 422 if form.is_submitted() else 200
    return render_template("retention/acp_new.html", form=form), status


@bp.route("/acp/<int:request_id>")
@require(RETENTION_PERMISSIONS.roles(RetentionAction.VIEW))
def acp_detail(request_id: int):
    """One ACP request: status, counts, the next step."""
    return _acp_page(load_or_404(AcpRequest, request_id))


#: Each ACP event's endpoint and wording (the machine names the steps; the page words them).
ACP_ENDPOINTS = {
    "verify": "retention.acp_verify",
    "record_existing_destroyed": "retention.acp_destroy_existing",
    "activate_suppression": "retention.acp_activate",
    "end": "retention.acp_end",
    "decline": "retention.acp_decline",
}
ACP_LOOKS = {
    "verify": StepLook(
        button="Mark verified",
        hint="Verified: the written request is genuine and the participant is enrolled. The "
        "plates have been suppressed since the request was entered.",
    ),
    "record_existing_destroyed": StepLook(
        button="Destroy existing data",
        hint="Destroys the reads of these plates already collected; reads an active matter "
        "holds are deferred.",
    ),
    "activate_suppression": StepLook(
        button="Activate suppression",
        hint="Records that the existing data is gone; new reads of the plates go on being "
        "destroyed at collection.",
    ),
    "end": StepLook(button="Participant left the program"),
    "decline": StepLook(
        button="Decline request",
        hint="Declining is final: new reads of the plates are kept again, and the reads "
        "collected before the request are back in use.",
    ),
}


def _acp_decline_form(**kwargs: Any) -> AcpDeclineForm:
    """The decline form; its box has an id of its own beside the destroy step's."""
    return confirmation_named(AcpDeclineForm(**kwargs), "acp-decline-confirm")


#: The job that destroys an ACP participant's existing data (workers.retention).
ACP_DESTRUCTION_JOB = "destroy_acp_existing_data"


def _acp_destruction(request_id: int) -> JobRun | None:
    return latest_run(db_session(), ACP_DESTRUCTION_JOB, acp_request_id=request_id)


def _destruction_under_way(request_id: int) -> bool:
    """A destruction queued or running: a second press would only queue it again."""
    run = _acp_destruction(request_id)
    return run is not None and run.finished_at is None


def _acp_page(request_: AcpRequest, refused: dict[str, FlaskForm] | None = None) -> str:
    """The ACP request's page; a refused step passes its bound form back in (`refused`)."""
    return render_template(
        "retention/acp_detail.html",
        r=request_,
        steps=_acp_steps(request_, refused or {}),
        history=listing.request_history(db_session(), listing.ACP, request_),
        document_url=url_for("retention.acp_document", request_id=request_.id)
        if request_.document_sha256 and may(RetentionAction.SEE_ACP_DOCUMENTS)
        else None,
        destruction=_acp_destruction(request_.id),
    )


@bp.route("/acp/<int:request_id>/destruction")
@require(RETENTION_PERMISSIONS.roles(RetentionAction.VIEW))
def acp_destruction(request_id: int):
    """The destruction job's progress, polled by the request's page; reloads it when done."""
    load_or_404(AcpRequest, request_id)
    run = _acp_destruction(request_id)
    if run is None:
        abort(404)
    html = render_template("retention/_acp_destruction.html", run=run, request_id=request_id)
    if run.finished_at is not None:
        return html, 200, {"HX-Refresh": "true"}
    return html


def _acp_steps(request_: AcpRequest, refused: dict[str, FlaskForm]) -> list[StepView]:
    """The ACP steps the viewer may take; destroying is queued by one who may move requests.

    The machine leaves the destroy step unguarded (a job takes it), so the page offers it only
    to a person whose role moves ACP requests (the route checks the same).
    """
    forms: dict[str, FlaskForm] = {
        "verify": RequestStepForm(formdata=None),
        "activate_suppression": RequestStepForm(formdata=None),
        "end": AcpEndForm(formdata=None),
        "decline": _acp_decline_form(formdata=None),
    }
    if may(RetentionAction.MOVE_ACP) and not _destruction_under_way(request_.id):
        forms["record_existing_destroyed"] = AcpDestroyExistingForm(formdata=None)
    forms.update(refused)
    return next_step_views(
        AcpMachine.around(request_),
        acting_user(),
        forms,
        lambda event: url_for(ACP_ENDPOINTS[event], request_id=request_.id),
        looks=ACP_LOOKS,
    )


Page = Callable[[Any, dict[str, FlaskForm]], str]


def _request_step(
    model: type,
    request_id: int,
    event: str,
    form: FlaskForm,
    step: Callable[[Session, Any], str],
    page: Page,
) -> Any:
    """Take one workflow step on a request, or re-render its page (422) saying why not.

    A form that does not validate (a missing input, an unticked "cannot be undone"), or a step
    the service refuses, shows the request's page again with the typed values kept and the
    message next to its field: nothing is saved and no audit entry is written (the session is
    rolled back). A stale CSRF token is a 400.
    """
    session = db_session()
    request_ = load_or_404(model, request_id)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return page(request_, {event: form}), 422
    try:
        message = step(session, request_)
    except Refusal as exc:
        session.rollback()
        show_refusal(form, exc)
        return page(request_, {event: form}), 422
    session.commit()
    flash(message, "success")
    endpoint = "retention.acp_detail" if model is AcpRequest else "retention.exculpatory_detail"
    return redirect(url_for(endpoint, request_id=request_id))


def _acp_step(
    request_id: int, event: str, form: FlaskForm, step: Callable[[Session, AcpRequest], str]
) -> Any:
    return _request_step(AcpRequest, request_id, event, form, step, _acp_page)


@bp.route("/acp/<int:request_id>/verify", methods=["POST"])
@require(RETENTION_PERMISSIONS.roles(RetentionAction.MOVE_ACP))
def acp_verify(request_id: int):
    """Received → verified: new reads of the plates are destroyed at collection from now."""

    def step(session: Session, r: AcpRequest) -> str:
        acp.verify_acp_request(session, acting_user(), r)
        return "Request verified: the participant's existing data may now be destroyed."

    return _acp_step(request_id, "verify", RequestStepForm(), step)


@bp.route("/acp/<int:request_id>/destroy-existing", methods=["POST"])
@require(RETENTION_PERMISSIONS.roles(RetentionAction.MOVE_ACP))
def acp_destroy_existing(request_id: int):
    """Queue the job that destroys the participant's existing data (confirmed: no way back)."""
    session = db_session()
    request_ = load_or_404(AcpRequest, request_id)
    form = AcpDestroyExistingForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _acp_page(request_, {"record_existing_destroyed": form}), 422
    if "record_existing_destroyed" not in acp.acp_steps(acting_user(), request_):
        flash("Existing data is destroyed once the request is verified, and only once.", "error")
        return redirect(url_for("retention.acp_detail", request_id=request_id))
    if _destruction_under_way(request_id):
        flash("The destruction of existing data is already under way.", "error")
        return redirect(url_for("retention.acp_detail", request_id=request_id))
    actor_id = acting_user().id
    run = create_run(session, ACP_DESTRUCTION_JOB, actor_id, acp_request_id=request_id)
    session.commit()
    enqueue_run(destroy_acp_existing_data, run.id, run.attempts, request_id, actor_id)
    flash("Destruction of existing data started.", "success")
    return redirect(url_for("retention.acp_detail", request_id=request_id))


@bp.route("/acp/<int:request_id>/activate", methods=["POST"])
@require(RETENTION_PERMISSIONS.roles(RetentionAction.MOVE_ACP))
def acp_activate(request_id: int):
    """existing_destroyed → suppression_active."""

    def step(session: Session, r: AcpRequest) -> str:
        acp.activate_acp_suppression(session, acting_user(), r)
        return "Suppression at collection is active."

    return _acp_step(request_id, "activate_suppression", RequestStepForm(), step)


@bp.route("/acp/<int:request_id>/end", methods=["POST"])
@require(RETENTION_PERMISSIONS.roles(RetentionAction.MOVE_ACP))
def acp_end(request_id: int):
    """suppression_active → ended: the participant left the program."""
    form = AcpEndForm()

    def step(session: Session, r: AcpRequest) -> str:
        acp.end_acp_request(session, acting_user(), r, ended_on=form.ended_on.data)
        return "Request ended: new reads of these plates are kept again."

    return _acp_step(request_id, "end", form, step)


@bp.route("/acp/<int:request_id>/decline", methods=["POST"])
@require(RETENTION_PERMISSIONS.roles(RetentionAction.DECLINE_ACP))
def acp_decline(request_id: int):
    """Received or verified → declined, with the reason: the plates' suppression ends."""
    form = _acp_decline_form()

    def step(session: Session, r: AcpRequest) -> str:
        acp.decline_acp_request(session, acting_user(), r, reason=form.reason.data)
        return "Request declined: new reads of these plates are kept again."

    return _acp_step(request_id, "decline", form, step)


# --- exculpatory requests -----------------------------------------------------------------


@bp.route("/exculpatory/new", methods=["GET", "POST"])
@require(RETENTION_PERMISSIONS.roles(RetentionAction.ENTER_REQUESTS))
def exculpatory_new():
    """Enter a subject's written request with its scope."""
    session = db_session()
    form = ExculpatoryRequestForm()
    form.device_ids.choices = _devices()
    if form.validate_on_submit():
        try:
            window_start = _when(form.window_start)
            window_end = _when(form.window_end)
            document = _document(form)
            request_ = _enter(
                session,
                document,
                lambda: exculpatory.receive_exculpatory_request(
                    session,
                    acting_user(),
                    requester_name=form.requester_name.data,
                    case_file_number=form.case_file_number.data,
                    received_on=form.received_on.data,
                    window_start=window_start,
                    window_end=window_end,
                    plates=_lines(form.plates.data),
                    device_ids=form.device_ids.data or [],
                    document=document,
                    paper_original=form.paper_original.data,
                ),
            )
        except exculpatory.ExculpatoryError as exc:
            show_refusal(form, exc)
        except ValueError:
            pass  # a bad scan: its field carries the message
        else:
            flash(f"Exculpatory request {request_.id} received.", "success")
            return redirect(url_for("retention.exculpatory_detail", request_id=request_.id))
    status = 422 if form.is_submitted() else 200
    return render_template("retention/exculpatory_new.html", form=form), status


@bp.route("/exculpatory/<int:request_id>")
@require(RETENTION_PERMISSIONS.roles(RetentionAction.VIEW))
def exculpatory_detail(request_id: int):
    """One exculpatory request: scope, status, the next step (declining for those who may)."""
    return _exculpatory_page(load_or_404(ExculpatoryRequest, request_id))


EXCULPATORY_ENDPOINTS = {
    "activate": "retention.exculpatory_activate",
    "decline": "retention.exculpatory_decline",
    "release": "retention.exculpatory_release",
}
EXCULPATORY_LOOKS = {
    "activate": StepLook(
        button="Activate hold",
        hint="The data in scope is kept from receipt. Activate once the request qualifies "
        "under 425.5(a); it is then kept until the criminal matter is resolved.",
    ),
    "decline": StepLook(
        button="Decline request",
        hint="Declining is final: the data falls back under the 60-day rule.",
    ),
    "release": StepLook(
        button="Matter resolved: release",
        hint="Releasing is final: the data falls back under the 60-day rule.",
    ),
}


def _exculpatory_page(
    request_: ExculpatoryRequest, refused: dict[str, FlaskForm] | None = None
) -> str:
    """The request's page; a refused step passes its bound form back in (`refused`)."""
    forms: dict[str, FlaskForm] = {
        "activate": RequestStepForm(formdata=None),
        "decline": ExculpatoryDeclineForm(formdata=None),
        "release": ExculpatoryReleaseForm(formdata=None),
        **(refused or {}),
    }
    steps = next_step_views(
        ExculpatoryMachine.around(request_),
        acting_user(),
        forms,
        lambda event: url_for(EXCULPATORY_ENDPOINTS[event], request_id=request_.id),
        looks=EXCULPATORY_LOOKS,
    )
    return render_template(
        "retention/exculpatory_detail.html",
        r=request_,
        steps=steps,
        history=listing.request_history(db_session(), listing.EXCULPATORY, request_),
        document_url=url_for("retention.exculpatory_document", request_id=request_.id)
        if request_.document_sha256
        else None,
    )


def _exculpatory_step(
    request_id: int,
    event: str,
    form: FlaskForm,
    step: Callable[[Session, ExculpatoryRequest], str],
) -> Any:
    return _request_step(ExculpatoryRequest, request_id, event, form, step, _exculpatory_page)


@bp.route("/exculpatory/<int:request_id>/activate", methods=["POST"])
@require(RETENTION_PERMISSIONS.roles(RetentionAction.ACTIVATE_EXCULPATORY))
def exculpatory_activate(request_id: int):
    """Received → active: the request is accepted; its hold, in force since receipt, stays."""

    def step(session: Session, r: ExculpatoryRequest) -> str:
        exculpatory.activate_exculpatory_hold(session, acting_user(), r)
        return "Exculpatory hold active: the data in scope is kept until the matter is resolved."

    return _exculpatory_step(request_id, "activate", RequestStepForm(), step)


@bp.route("/exculpatory/<int:request_id>/decline", methods=["POST"])
@require(RETENTION_PERMISSIONS.roles(RetentionAction.DECLINE_EXCULPATORY))
def exculpatory_decline(request_id: int):
    """Received → declined, with the reason: the request does not qualify; its hold ends."""
    form = ExculpatoryDeclineForm()

    def step(session: Session, r: ExculpatoryRequest) -> str:
        exculpatory.decline_exculpatory_request(session, acting_user(), r, reason=form.reason.data)
        return "Request declined: the data falls back under the 60-day rule."

    return _exculpatory_step(request_id, "decline", form, step)


@bp.route("/exculpatory/<int:request_id>/release", methods=["POST"])
@require(RETENTION_PERMISSIONS.roles(RetentionAction.RELEASE_EXCULPATORY))
def exculpatory_release(request_id: int):
    """Active → released, with the resolution of the criminal matter."""
    form = ExculpatoryReleaseForm()

    def step(session: Session, r: ExculpatoryRequest) -> str:
        exculpatory.release_exculpatory_hold(
            session,
            acting_user(),
            r,
            disposition=form.disposition.data,
            resolved_on=form.resolved_on.data,
        )
        return "Released: the data falls back under the 60-day rule."

    return _exculpatory_step(request_id, "release", form, step)


@bp.route("/holds.csv")
@require(RETENTION_PERMISSIONS.roles(RetentionAction.VIEW), training=True)
def holds_export():
    """Every hold, placed or released, as CSV (plates counted, not listed); audited."""
    session = db_session()
    holds = list(session.scalars(select(Hold).order_by(Hold.id)))
    return exported_list_csv(
        session,
        acting_user(),
        "holds",
        "holds.csv",
        (
            "hold_id",
            "kind",
            "status",
            "case_number",
            "exculpatory_request_id",
            "window_start",
            "window_end",
            "plates",
            "device_ids",
            "description",
            "created_at",
            "released_at",
        ),
        holds,
        lambda h: [
            h.id,
            h.kind,
            h.status,
            h.investigation.case_number if h.investigation else None,
            h.exculpatory_request_id,
            h.window_start,
            h.window_end,
            len(h.plates),
            " ".join(str(d.device_id) for d in h.devices),
            h.description,
            h.created_at,
            h.released_at,
        ],
    )


# --- the lists of written requests, and their scans ------------------------------------------


def _list(kind: listing.RequestKind, template: str, endpoint: str) -> str:
    """One page of a kind of request, of the status asked (`?status=`, `?page=`); audited."""
    session = db_session()
    status = request.args.get("status") or None
    result = listing.request_page(session, kind, status, requested_page())
    record(session, acting_user(), AuditAction.RETENTION_VIEWED, ("page", endpoint), {})
    session.commit()
    return render_template(
        template,
        result=result,
        status=status,
        statuses=[(value, label, value == status) for value, label in listing.status_choices(kind)],
        may=may,
    )


@bp.route("/acp")
@require(RETENTION_PERMISSIONS.roles(RetentionAction.VIEW), training=True)
def acp_list():
    """Every ACP request, newest first, by status and page by page."""
    return _list(listing.ACP, "retention/acp_list.html", "retention.acp_list")


@bp.route("/exculpatory")
@require(RETENTION_PERMISSIONS.roles(RetentionAction.VIEW), training=True)
def exculpatory_list():
    """Every exculpatory request, newest first, by status and page by page."""
    return _list(
        listing.EXCULPATORY, "retention/exculpatory_list.html", "retention.exculpatory_list"
    )


def _send_scan(request_: AcpRequest | ExculpatoryRequest) -> Any:
    """The written request's scan as it was uploaded; opening it is an entry of the trail."""
    if not request_.document_sha256:
        abort(404)
    session = db_session()
    document = session.get(StoredDocument, request_.document_sha256)
    if document is None:
        abort(404)
    record(session, acting_user(), AuditAction.RETENTION_VIEWED, request_, {})
    session.commit()
    return send_stored_document(
        document.sha256, mimetype=document.content_type, download_name=document.original_name
    )


@bp.route("/acp/<int:request_id>/document")
@require(RETENTION_PERMISSIONS.roles(RetentionAction.SEE_ACP_DOCUMENTS))
def acp_document(request_id: int):
    """The participant's written request as scanned (records staff and the responsible only)."""
    return _send_scan(load_or_404(AcpRequest, request_id))


@bp.route("/exculpatory/<int:request_id>/document")
@require(RETENTION_PERMISSIONS.roles(RetentionAction.VIEW))
def exculpatory_document(request_id: int):
    """The subject's written request as scanned."""
    return _send_scan(load_or_404(ExculpatoryRequest, request_id))


# --- what a case page lists of retention ---------------------------------------------------


def _case_holds(session: Session, viewer: Any, investigation: Investigation):
    total, holds = holds_of_case(session, investigation)
    return total, [
        CaseItem(
            f"Hold {hold.id}",
            url_for("retention.hold_release", hold_id=hold.id)
            if "release" in hold_steps(viewer, hold)
            else None,
            f"{format_local(hold.window_start)} – {format_local(hold.window_end)} · plates: "
            f"{', '.join(p.plate for p in hold.plates) or 'any'} · devices: "
            f"{', '.join(d.device.serial for d in hold.devices) or 'any'} · {hold.status}",
        )
        for hold in holds
    ]


def _case_exculpatory(session: Session, viewer: Any, investigation: Investigation):
    total, requests = exculpatory.exculpatory_requests_of_case(session, investigation)
    opens = can_reach(viewer, "retention.exculpatory_detail")
    return total, [
        CaseItem(
            f"Exculpatory request {r.id}",
            url_for("retention.exculpatory_detail", request_id=r.id) if opens else None,
            f"received {r.received_on} · {r.status}",
        )
        for r in requests
    ]


register_case_section(CaseSection("holds", 10, "Holds", "No hold for this case.", _case_holds))
register_case_section(
    CaseSection(
        "exculpatory",
        40,
        "Exculpatory requests naming this case",
        "No exculpatory request names this case number.",
        _case_exculpatory,
    )
)
