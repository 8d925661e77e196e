"""Agency request pages: the portal, the approval queue and review pages, agencies. Thin views.

Agency users have the portal (`/portal`); staff the queue and review pages (`/requests`) and
the agencies' pages with their invitations.

The portal shows an agency user their own agency's requests only: every portal route loads a
request through :func:`app.requests.services.request_of_agency` and answers 404 for any other,
whatever id is typed (a 403 would tell them it exists).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
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
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.exports import exported_list_csv
from app.auth.access import can_reach, public, require
from app.auth.models import Agency, User
from app.core.pages import (
    StepLook,
    acting_user,
    load_or_404,
    next_step_views,
    send_stored_document,
)
from app.core.refusal import Refusal, show_refusal
from app.core.timeutil import local_to_utc
from app.db import db_session, utcnow
from app.extensions import htmx
from app.investigations.models import Investigation
from app.investigations.sections import CaseItem, CaseSection, register_case_section
from app.reads.models import Device
from app.requests.forms import (
    AcceptInvitationForm,
    AgencyProfileForm,
    AgencyRequestForm,
    AnswerForm,
    ApproveForm,
    AskForm,
    CloseForm,
    InviteForm,
    QueueFilterForm,
    ReasonForm,
    StepForm,
    WithdrawForm,
)
from app.requests.invitations import (
    INVITATION_DAYS,
    accept_invitation,
    invitation_for,
    invite_agency_user,
)
from app.requests.letters import (
    LetterRejected,
    discard_staged_letter,
    inspect_letter,
    stage_letter,
    staged_letter,
)
from app.requests.models import OPEN_STATES, AgencyRequest, ReleasePackage
from app.requests.notifications import outbox, queue_message
from app.requests.packages import (
    RELEASABLE,
    PackageError,
    building_package,
    download_package,
    package_file,
    packages_of,
    start_package,
)
from app.requests.permissions import REQUEST_PERMISSIONS, RequestAction
from app.requests.services import (
    agency_profile,
    answer_question,
    approve_request,
    ask_for_information,
    close_request,
    deny_request,
    list_requests,
    record_agency_profile,
    refer_to_records,
    request_history,
    request_of_agency,
    requests_of_agency,
    requests_of_case,
    review_scope,
    start_review,
    submit_request,
    withdraw_request,
)
from app.requests.workflow import AgencyRequestMachine
from app.retention.documents import IncomingDocument, remove_unreferenced_document
from workers.queue import enqueue, enqueue_run
from workers.releases import build_release_package, send_outbox_mail

bp = Blueprint("requests", __name__)

PORTAL = REQUEST_PERMISSIONS.roles(RequestAction.FOLLOW)


def _may(action: RequestAction) -> bool:
    return REQUEST_PERMISSIONS.allows(acting_user(), action)


def _deliver() -> None:
    """Send the outbox now when SMTP is configured (the scheduled job catches up otherwise)."""
    if current_app.config.get("SMTP_URL"):
        enqueue(send_outbox_mail)


# --- the agency portal ---------------------------------------------------------------------


def _own_request(request_id: int) -> AgencyRequest:
    """The signed-in agency user's own agency's request, or 404 (never another agency's)."""
    load_or_404(AgencyRequest, request_id)  # ids no row can have are 404 too
    found = request_of_agency(db_session(), acting_user().agency_id, request_id)
    if found is None:
        abort(404)
    return found


@bp.route("/portal")
@require(PORTAL)
def portal():
    """The agency's requests, newest first."""
    user = acting_user()
    session = db_session()
    return render_template(
        "requests/portal.html",
        rows=requests_of_agency(session, user.agency_id) if user.agency_id else [],
        profile=agency_profile(session, user.agency_id),
    )


def _request_form() -> AgencyRequestForm:
    """The form with its choices: the agency's recorded authorisers, the department's devices."""
    form = AgencyRequestForm()
    profile = agency_profile(db_session(), acting_user().agency_id)
    people = profile.authorisers() if profile else {}
    form.authorised_by.choices = [("", "— choose —")] + [
        (role, f"{name} ({'head of the agency' if role == 'head' else 'designee'})")
        for role, name in people.items()
    ]
    form.device_ids.choices = [
        (d.id, f"{d.serial} {d.description}".strip())
        for d in db_session().scalars(select(Device).order_by(Device.serial))
    ]
    return form


def _letter(form: AgencyRequestForm) -> tuple[IncomingDocument | None, bool]:
    """The letter uploaded now, or the one kept from the last try; (letter, already staged).

    An unreadable upload puts its reason at the letter's field and returns None.
    """
    upload = form.letter.data
    if upload is not None and getattr(upload, "filename", ""):
        try:
            return inspect_letter(upload.read(), upload.filename), False
        except LetterRejected as exc:
            form.letter.errors = [*form.letter.errors, str(exc)]
            form.letter_token.data = form.letter_name.data = ""
            return None, False
    token = form.letter_token.data or ""
    if token:
        try:
            kept = staged_letter(db_session(), acting_user().id, token, form.letter_name.data)
        except LetterRejected:
            kept = None
        if kept is not None:
            return kept, True
    form.letter_token.data = form.letter_name.data = ""
    form.letter.errors = [*form.letter.errors, "Upload the signed letter of authorisation."]
    return None, False


def _keep(form: AgencyRequestForm, letter: IncomingDocument | None, staged: bool) -> None:
    """Keep a readable letter for the next try, so nothing typed or uploaded is lost."""
    if letter is not None and not staged:
        form.letter_token.data = stage_letter(db_session(), acting_user().id, letter)
        form.letter_name.data = letter.original_name


def _when(field: Any) -> Any:
    return local_to_utc(field.data) if field.data is not None else None


def _submit(session: Session, form: AgencyRequestForm, letter: IncomingDocument) -> AgencyRequest:
    """Submit through the service; a twin sent at the same moment finds the first's request."""
    fields = {
        "requester_name": form.requester_name.data,
        "purpose": form.purpose.data,
        "factual_basis": form.factual_basis.data,
        "case_number": form.case_number.data,
        "authorised_by": form.authorised_by.data,
        "letter": letter,
        "window_start": _when(form.window_start),
        "window_end": _when(form.window_end),
        "plates": (form.plates.data or "").splitlines(),
        "device_ids": form.device_ids.data or [],
        "box": (form.min_lat.data, form.max_lat.data, form.min_lon.data, form.max_lon.data),
        "now": utcnow(),
        "retention_days": current_app.config["RETENTION_DAYS"],
        "submission_key": form.submission_key.data,
    }
    try:
        return submit_request(session, acting_user(), **fields)
    except IntegrityError:
        session.rollback()
        return submit_request(session, acting_user(), **fields)


def _submit_and_commit(
    session: Session, form: AgencyRequestForm, letter: IncomingDocument
) -> AgencyRequest:
    """Submit and commit; on a failure after the letter was written, take its file back."""
    try:
        made = _submit(session, form, letter)
        session.commit()
    except BaseException:
        session.rollback()
        remove_unreferenced_document(session, letter.sha256)
        session.commit()
        raise
    return made


@bp.route("/portal/requests/new", methods=["GET", "POST"])
@require(REQUEST_PERMISSIONS.roles(RequestAction.SUBMIT))
def portal_new():
    """The written request (425.7(a)); a refused field keeps everything typed and uploaded."""
    form = _request_form()
    if request.method == "GET":
        form.submission_key.data = uuid.uuid4().hex
        form.requester_name.data = acting_user().name
        return render_template("requests/new.html", form=form)
    valid = form.validate_on_submit()
    if form.csrf_token.errors:
        abort(400)
    letter, staged = _letter(form)
    if not valid or letter is None:
        _keep(form, letter, staged)
        return render_template("requests/new.html", form=form), 422
    session = db_session()
    try:
        made = _submit_and_commit(session, form, letter)
    except Refusal as exc:
        show_refusal(form, exc, "purpose")
        _keep(form, letter, staged)
        return render_template("requests/new.html", form=form), 422
    if staged:
        discard_staged_letter(session, acting_user().id, form.letter_token.data)
    flash(f"Request {made.id} submitted. The Deputy Chief or designee reviews it.", "success")
    return redirect(url_for("requests.portal_detail", request_id=made.id))


PORTAL_STEPS: dict[str, Callable[[], FlaskForm]] = {
    "answer": lambda: AnswerForm(formdata=None),
    "withdraw": lambda: WithdrawForm(formdata=None),
}
PORTAL_LOOKS = {
    "answer": StepLook(hint="The department's question is shown above."),
    "withdraw": StepLook(hint="A withdrawn request is closed for good; submit a new one later."),
}


def _portal_page(req: AgencyRequest, status: int = 200, **sent: FlaskForm) -> Any:
    forms = {event: sent.get(event) or make() for event, make in PORTAL_STEPS.items()}
    steps = next_step_views(
        AgencyRequestMachine.around(req),
        acting_user(),
        forms,
        lambda event: url_for(f"requests.portal_{event}", request_id=req.id),
        looks=PORTAL_LOOKS,
    )
    return render_template(
        "requests/portal_detail.html",
        r=req,
        steps=steps,
        history=request_history(db_session(), req),
        packages=packages_of(db_session(), req),
        now=utcnow(),
    ), status


@bp.route("/portal/requests/<int:request_id>")
@require(PORTAL)
def portal_detail(request_id: int):
    """One of the agency's own requests: what it asked, where it stands, its timeline."""
    return _portal_page(_own_request(request_id))


def _portal_step(request_id: int, event: str, form: FlaskForm, take: Callable[..., Any]) -> Any:
    req = _own_request(request_id)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _portal_page(req, 422, **{event: form})
    session = db_session()
    try:
        take(session, req)
    except Refusal as exc:
        session.rollback()
        show_refusal(form, exc)
        return _portal_page(_own_request(request_id), 422, **{event: form})
    session.commit()
    flash("Done.", "success")
    return redirect(url_for("requests.portal_detail", request_id=request_id))


@bp.route("/portal/requests/<int:request_id>/answer", methods=["POST"])
@require(REQUEST_PERMISSIONS.roles(RequestAction.ANSWER))
def portal_answer(request_id: int):
    """Needs information → under review: the agency's answer."""
    form = AnswerForm()
    return _portal_step(
        request_id,
        "answer",
        form,
        lambda session, req: answer_question(session, acting_user(), req, answer=form.answer.data),
    )


@bp.route("/portal/requests/<int:request_id>/withdraw", methods=["POST"])
@require(REQUEST_PERMISSIONS.roles(RequestAction.WITHDRAW))
def portal_withdraw(request_id: int):
    """The agency withdraws its request before a decision."""
    form = WithdrawForm()
    return _portal_step(
        request_id,
        "withdraw",
        form,
        lambda session, req: withdraw_request(session, acting_user(), req, reason=form.reason.data),
    )


# --- the approval queue and the review page ------------------------------------------------

STAFF_VIEW = REQUEST_PERMISSIONS.roles(RequestAction.VIEW)


@bp.route("/requests")
@require(STAFF_VIEW, training=True)
def queue():
    """Agency requests, oldest first, filtered; the list refreshes itself (htmx)."""
    session = db_session()
    form = QueueFilterForm(formdata=request.args)
    form.agency.choices = [(0, "All agencies")] + [
        (a.id, a.name) for a in session.scalars(select(Agency).order_by(Agency.name))
    ]
    form.validate()
    state = "" if form.state.errors else form.state.data or ""
    rows = list_requests(
        session,
        now=utcnow(),
        states=[] if state == "all" else [state] if state else OPEN_STATES,
        agency_id=None if form.agency.errors else form.agency.data or None,
        older_than_days=None if form.older_than.errors else form.older_than.data,
    )
    context = {"rows": rows, "form": form, "filters": request.args.to_dict(), "now": utcnow()}
    if htmx:
        return render_template("requests/_queue_rows.html", **context)
    return render_template("requests/queue.html", **context)


STAFF_STEPS: dict[str, Callable[[AgencyRequest], FlaskForm]] = {
    "start_review": lambda r: StepForm(formdata=None),
    "ask": lambda r: AskForm(formdata=None),
    "approve": lambda r: ApproveForm(
        formdata=None, active_investigation=f"{r.agency.name} case {r.case_number}"[:300]
    ),
    "deny": lambda r: ReasonForm(formdata=None, prefix="deny"),
    "refer": lambda r: ReasonForm(formdata=None, prefix="refer"),
    "close": lambda r: CloseForm(formdata=None),
}
#: Events whose view is named otherwise (the service of the same name is imported here).
STAFF_ENDPOINTS = {"start_review": "requests.start_review_step"}
STAFF_LOOKS = {
    "ask": StepLook(button="Ask the agency"),
    "approve": StepLook(
        hint="Approve only on a reasonable suspicion that the data is pertinent to an active "
        "criminal investigation (425.7(b)(1))."
    ),
    "refer": StepLook(
        hint="For a body that is not a law-enforcement or prosecutorial agency: the Records "
        "Maintenance and Release policy handles it."
    ),
}


def _review_page(req: AgencyRequest, status: int = 200, **sent: FlaskForm) -> Any:
    session = db_session()
    forms = {event: sent.get(event) or make(req) for event, make in STAFF_STEPS.items()}
    steps = next_step_views(
        AgencyRequestMachine.around(req),
        acting_user(),
        forms,
        lambda event: url_for(STAFF_ENDPOINTS.get(event, f"requests.{event}"), request_id=req.id),
        looks=STAFF_LOOKS,
    )
    read_count = review_scope(session, acting_user(), req)
    session.commit()
    return render_template(
        "requests/review.html",
        r=req,
        steps=steps,
        history=request_history(session, req),
        read_count=read_count,
        packages=packages_of(session, req),
        now=utcnow(),
        build_form=StepForm(formdata=None)
        if req.status in RELEASABLE
        and _may(RequestAction.BUILD_PACKAGE)
        and building_package(session, req) is None
        else None,
    ), status


@bp.route("/requests/<int:request_id>")
@require(STAFF_VIEW, training=True)
def review(request_id: int):
    """One request: the five items, the letter, how many reads the scope matches now, steps."""
    return _review_page(load_or_404(AgencyRequest, request_id))


@bp.route("/requests/<int:request_id>/letter")
@require(STAFF_VIEW, training=True)
def letter(request_id: int):
    """The signed letter the agency uploaded, as it was uploaded."""
    req = load_or_404(AgencyRequest, request_id)
    return send_stored_document(
        req.letter_sha256,
        mimetype=req.letter.content_type,
        download_name=req.letter.original_name,
    )


def _staff_step(request_id: int, event: str, form: FlaskForm, take: Callable[..., Any]) -> Any:
    """Take one step, or show the request again (422) with the reason at its field."""
    req = load_or_404(AgencyRequest, request_id)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _review_page(req, 422, **{event: form})
    session = db_session()
    try:
        take(session, req)
    except Refusal as exc:
        session.rollback()
        show_refusal(form, exc)
        return _review_page(load_or_404(AgencyRequest, request_id), 422, **{event: form})
    session.commit()
    _deliver()
    flash(f"{AgencyRequestMachine.step_label(event)}: done.", "success")
    return redirect(url_for("requests.review", request_id=request_id))


@bp.route("/requests/<int:request_id>/start-review", methods=["POST"])
@require(REQUEST_PERMISSIONS.roles(RequestAction.REVIEW), training=True)
def start_review_step(request_id: int):
    """Submitted → under review."""
    return _staff_step(
        request_id,
        "start_review",
        StepForm(),
        lambda session, req: start_review(session, acting_user(), req),
    )


@bp.route("/requests/<int:request_id>/ask", methods=["POST"])
@require(REQUEST_PERMISSIONS.roles(RequestAction.REVIEW), training=True)
def ask(request_id: int):
    """Under review → needs information."""
    form = AskForm()
    return _staff_step(
        request_id,
        "ask",
        form,
        lambda session, req: ask_for_information(
            session, acting_user(), req, question=form.question.data
        ),
    )


@bp.route("/requests/<int:request_id>/approve", methods=["POST"])
@require(REQUEST_PERMISSIONS.roles(RequestAction.DECIDE), training=True)
def approve(request_id: int):
    """Under review → approved, with the finding and the investigation (425.7(b))."""
    form = ApproveForm()
    return _staff_step(
        request_id,
        "approve",
        form,
        lambda session, req: approve_request(
            session,
            acting_user(),
            req,
            finding=form.finding.data,
            active_investigation=form.active_investigation.data,
        ),
    )


@bp.route("/requests/<int:request_id>/deny", methods=["POST"])
@require(REQUEST_PERMISSIONS.roles(RequestAction.DECIDE), training=True)
def deny(request_id: int):
    """Under review → denied, with the reason."""
    form = ReasonForm(prefix="deny")
    return _staff_step(
        request_id,
        "deny",
        form,
        lambda session, req: deny_request(session, acting_user(), req, reason=form.reason.data),
    )


@bp.route("/requests/<int:request_id>/refer", methods=["POST"])
@require(REQUEST_PERMISSIONS.roles(RequestAction.REFER), training=True)
def refer(request_id: int):
    """Referred to Records Maintenance and Release (not a law-enforcement request)."""
    form = ReasonForm(prefix="refer")
    return _staff_step(
        request_id,
        "refer",
        form,
        lambda session, req: refer_to_records(session, acting_user(), req, reason=form.reason.data),
    )


@bp.route("/requests/<int:request_id>/close", methods=["POST"])
@require(REQUEST_PERMISSIONS.roles(RequestAction.CLOSE), training=True)
def close(request_id: int):
    """Fulfilled → closed."""
    return _staff_step(
        request_id,
        "close",
        CloseForm(),
        lambda session, req: close_request(session, acting_user(), req),
    )


# --- release packages --------------------------------------------------------------------


@bp.route("/requests/<int:request_id>/packages", methods=["POST"])
@require(REQUEST_PERMISSIONS.roles(RequestAction.BUILD_PACKAGE), training=True)
def build(request_id: int):
    """Start building the release package of an approved request (an RQ job)."""
    req = load_or_404(AgencyRequest, request_id)
    form = StepForm()
    if not form.validate_on_submit():
        abort(400)
    session = db_session()
    try:
        package, started = start_package(session, acting_user(), req)
    except PackageError as exc:
        session.rollback()
        flash(str(exc), "error")
        return _review_page(load_or_404(AgencyRequest, request_id), 422)
    # Read before the commit: a lazy load after it would open a transaction (on SQLite, the
    # write lock) that an in-process job would then wait on.
    job = (package.id, package.job_run.id, package.job_run.attempts)
    session.commit()
    if started:
        package_id, run_id, attempt = job
        enqueue_run(build_release_package, run_id, attempt, package_id)
    flash(f"Release package {job[0]}: building.", "success")
    return redirect(url_for("requests.review", request_id=request_id))


@bp.route("/requests/<int:request_id>/packages/<int:package_id>/progress")
@require(STAFF_VIEW, training=True)
def package_progress(request_id: int, package_id: int):
    """One package's progress, for the poll on the request's page; reloads it when done."""
    package = load_or_404(ReleasePackage, package_id)
    if package.request_id != request_id:
        abort(404)
    html = render_template("requests/_package.html", package=package, now=utcnow(), staff=True)
    finished = package.job_run is not None and package.job_run.finished_at is not None
    if package.built_at is not None or finished:
        return html, 200, {"HX-Refresh": "true"}
    return html


@bp.route("/portal/packages/<int:package_id>/download")
@require(REQUEST_PERMISSIONS.roles(RequestAction.DOWNLOAD))
def download(package_id: int):
    """The agency downloads its package while the link holds (audited as dissemination)."""
    session = db_session()
    load_or_404(ReleasePackage, package_id)
    try:
        package = download_package(session, acting_user(), package_id, utcnow())
    except PackageError as exc:
        session.commit()  # the refusal's audit entry
        abort(exc.status, description=str(exc))
    session.commit()
    return send_file(
        package_file(current_app.config["RELEASE_STORE"], package),
        mimetype="application/zip",
        as_attachment=True,
        download_name=package.file_name,
    )


# --- agencies and their users --------------------------------------------------------------

MANAGE = REQUEST_PERMISSIONS.roles(RequestAction.MANAGE_AGENCIES)


@bp.route("/requests/agencies")
@require(MANAGE)
def agencies():
    """Registered agencies, what is recorded of them, and their users."""
    session = db_session()
    rows = [
        (agency, agency_profile(session, agency.id))
        for agency in session.scalars(select(Agency).order_by(Agency.name))
    ]
    return render_template("requests/agencies.html", rows=rows)


def _agency_page(agency: Agency, status: int = 200, **forms: FlaskForm) -> Any:
    session = db_session()
    profile = agency_profile(session, agency.id)
    profile_form = forms.get("profile") or AgencyProfileForm(formdata=None, obj=profile)
    users = session.scalars(
        select(User).where(User.agency_id == agency.id).order_by(User.name)
    ).all()
    return render_template(
        "requests/agency.html",
        agency=agency,
        profile=profile,
        profile_form=profile_form,
        invite_form=forms.get("invite") or InviteForm(formdata=None),
        users=users,
        invitation_link=forms.get("link"),
    ), status


@bp.route("/requests/agencies/<int:agency_id>")
@require(MANAGE)
def agency(agency_id: int):
    """One agency: its kind, head and designee, its users, and the invitation form."""
    return _agency_page(load_or_404(Agency, agency_id))


@bp.route("/requests/agencies/<int:agency_id>/profile", methods=["POST"])
@require(MANAGE)
def agency_profile_save(agency_id: int):
    """Record the agency's kind, head and designee."""
    agency_row = load_or_404(Agency, agency_id)
    form = AgencyProfileForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _agency_page(agency_row, 422, profile=form)
    session = db_session()
    try:
        record_agency_profile(
            session,
            acting_user(),
            agency_row,
            kind=form.kind.data,
            head_name=form.head_name.data,
            head_title=form.head_title.data,
            designee_name=form.designee_name.data,
            designee_title=form.designee_title.data,
        )
    except Refusal as exc:
        session.rollback()
        show_refusal(form, exc)
        return _agency_page(load_or_404(Agency, agency_id), 422, profile=form)
    session.commit()
    flash("Agency recorded.", "success")
    return redirect(url_for("requests.agency", agency_id=agency_id))


@bp.route("/requests/agencies/<int:agency_id>/invite", methods=["POST"])
@require(MANAGE)
def invite(agency_id: int):
    """Invite a user of this agency: the link is shown once, here (and mailed to them)."""
    agency_row = load_or_404(Agency, agency_id)
    form = InviteForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _agency_page(agency_row, 422, invite=form)
    session = db_session()
    try:
        user, token = invite_agency_user(
            session,
            acting_user(),
            agency_row,
            name=form.name.data,
            email=form.email.data,
            now=utcnow(),
        )
    except Refusal as exc:
        session.rollback()
        show_refusal(form, exc)
        return _agency_page(load_or_404(Agency, agency_id), 422, invite=form)
    link = url_for("requests.invitation", token=token, _external=True)
    queue_message(
        session,
        kind="invitation",
        recipient=user.email,
        subject="Your ALPR Records agency account",
        body=f"{acting_user().name} invited you, {user.name}, as a user of {agency_row.name}, "
        f"to request ALPR data from the Winona Police Department (policy 425.7).\n\n"
        f"Choose your password here (the link works once, for {INVITATION_DAYS} days):\n"
        f"{link}",
    )
    session.commit()
    _deliver()
    flash(f"{user.email} invited. The link below is shown only now.", "success")
    return _agency_page(load_or_404(Agency, agency_id), link=link)


@bp.route("/requests/outbox")
@require(REQUEST_PERMISSIONS.roles(RequestAction.READ_OUTBOX))
def outbox_page():
    """The mail the app owes agencies, sent or waiting (without SMTP, this page delivers it)."""
    return render_template(
        "requests/outbox.html",
        messages=outbox(db_session()),
        smtp=bool(current_app.config.get("SMTP_URL")),
    )


@bp.route("/login/invitation/<token>", methods=["GET", "POST"])
@public
def invitation(token: str):
    """The invited agency user chooses a password (the link works once, for a week)."""
    session = db_session()
    form = AcceptInvitationForm()
    invitation = invitation_for(session, token, utcnow())
    if invitation is None:
        return render_template("requests/invitation.html", form=None), 404
    if not form.validate_on_submit():
        if form.is_submitted() and form.csrf_token.errors:
            abort(400)
        status = 422 if form.is_submitted() else 200
        return render_template("requests/invitation.html", form=form, user=invitation.user), status
    try:
        accept_invitation(
            session,
            token,
            password=form.password.data or "",
            password_again=form.password_again.data or "",
            now=utcnow(),
        )
    except Refusal as exc:
        session.rollback()
        show_refusal(form, exc)
        return render_template("requests/invitation.html", form=form, user=invitation.user), 422
    session.commit()
    flash("Your password is set. Sign in with your email and that password.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/requests/export.csv")
@require(STAFF_VIEW, training=True)
def queue_export():
    """The agency requests (every state) as CSV, for the staff who see the queue; audited."""
    session = db_session()
    rows = list_requests(session, now=utcnow())
    return exported_list_csv(
        session,
        acting_user(),
        "requests",
        "agency-requests.csv",
        (
            "request_id",
            "status",
            "agency",
            "requester",
            "case_number",
            "submitted_at",
            "window_start",
            "window_end",
        ),
        rows,
        lambda r: [
            r.id,
            r.status,
            r.agency.name,
            r.requester_name,
            r.case_number,
            r.submitted_at,
            r.window_start,
            r.window_end,
        ],
    )


def _case_requests(session: Session, viewer: Any, investigation: Investigation):
    total, found = requests_of_case(session, investigation)
    opens = can_reach(viewer, "requests.review")
    return total, [
        CaseItem(
            f"Request {r.id} · {r.agency.name}",
            url_for("requests.review", request_id=r.id) if opens else None,
            f"their case {r.case_number} · {r.status.replace('_', ' ')}",
        )
        for r in found
    ]


register_case_section(
    CaseSection(
        "agency_requests",
        50,
        "Agency requests for this case",
        "No agency request was decided as pertinent to this case.",
        _case_requests,
    )
)
