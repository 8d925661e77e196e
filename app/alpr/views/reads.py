"""Staff pages for one read, its pictures, and the queue of plates OCR was unsure of.

A read and its pictures open only in a context that documents why (app.alpr.read_access),
carried by the link as ``?via=…``; without one the read's page asks for the purpose and case
number first, and a picture is not found.
"""

from __future__ import annotations

import io

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from app.alpr.forms.review import ConfirmPlateForm, CorrectPlateForm
from app.alpr.forms.search import ReadLookupForm
from app.alpr.hits import hits_of_read
from app.alpr.image_reads import candidates, confirm_plate, correct_plate, review_queue
from app.alpr.permissions import ALPR_PERMISSIONS, AlprAction
from app.alpr.read_access import (
    REVIEW_CONTEXT,
    ContextRefused,
    ReadNotFound,
    search_context,
    view_read,
    view_read_image,
)
from app.alpr.search import SearchError, SearchRefused, SearchRules, look_up_read
from app.alpr.views import bp
from app.alpr.views.maps import read_points
from app.alpr.workflow import PlateMachine
from app.auth.access import require
from app.core.pages import StepLook, StepView, acting_user, load_or_404, next_step_views
from app.core.refusal import show_refusal
from app.db import db_session, utcnow
from app.extensions import htmx
from app.reads.image_store import ImageMissing, ImageStoreUnavailable
from app.reads.images import current_image_store
from app.reads.models import PlateStatus, Read
from app.retention.destruction import Deleted, finish_tombstones
from app.workflow.machine import WorkflowError

IMAGE_KINDS = "any(plate, vehicle, overview)"


def review_forms(read: Read) -> dict[str, object]:
    """A row's two forms, prefixed by the read so many rows share one page."""
    return {
        "confirm_form": ConfirmPlateForm(prefix=f"confirm-{read.id}"),
        "correct_form": CorrectPlateForm(prefix=f"correct-{read.id}", plate=read.plate),
    }


GONE = "No such read: it may have been destroyed under policy 425.5."


def _ask_purpose(read_id: int, form: ReadLookupForm, status: int, refusal: str | None = None):
    """The page that asks why the read is opened; it shows nothing of the read."""
    return render_template(
        "alpr/read_purpose.html", read_id=read_id, form=form, refusal=refusal
    ), status


@bp.get("/reads/<int:read_id>")
@require(ALPR_PERMISSIONS.roles(AlprAction.USE_DATA), training=True)
def read_detail(read_id: int):
    """One read with its pictures, in the context its link carries; audited with it.

    Without a context covering the read, the page asks for the purpose and case number.
    """
    session = db_session()
    try:
        read, via = view_read(session, acting_user(), read_id, request.args.get("via"))
    except ContextRefused as exc:
        session.commit()  # the refusal's entry
        given = "via" in request.args
        return _ask_purpose(read_id, ReadLookupForm(), 200, str(exc) if given else None)
    except ReadNotFound:
        session.rollback()
        abort(404, description=GONE)
    hits = hits_of_read(session, read.id)
    session.commit()
    return render_template(
        "alpr/read_detail.html",
        read=read,
        via=via,
        points=read_points([read], None),
        hits=hits,
        works_hits=ALPR_PERMISSIONS.allows(acting_user(), AlprAction.WORK_HITS),
        candidates=candidates(read),
        awaits_review=read.plate_status == PlateStatus.NEEDS_REVIEW.value,
    )


@bp.post("/reads/<int:read_id>")
@require(ALPR_PERMISSIONS.roles(AlprAction.USE_DATA), training=True)
def read_lookup(read_id: int):
    """State why the read is opened: a search of that read, then the read in its context."""
    form = ReadLookupForm()
    if not form.validate_on_submit():
        return _ask_purpose(read_id, form, 422)
    session = db_session()
    try:
        search = look_up_read(
            session,
            acting_user(),
            read_id,
            purpose_category=form.purpose_category.data,
            purpose=form.purpose.data,
            case_number=form.case_number.data,
            rules=SearchRules.from_config(current_app.config),
            now=utcnow(),
        )
    except SearchRefused as exc:
        session.commit()  # the refusal's entry
        return _ask_purpose(read_id, form, 403, str(exc))
    except SearchError as exc:
        session.rollback()
        show_refusal(form, exc)
        return _ask_purpose(read_id, form, 422)
    session.commit()
    if not search.result_count:
        abort(404, description=GONE)
    return redirect(url_for("alpr.read_detail", read_id=read_id, via=search_context(search)))


@bp.get(f"/reads/<int:read_id>/images/<{IMAGE_KINDS}:kind>")
@require(ALPR_PERMISSIONS.roles(AlprAction.USE_DATA), training=True)
def read_image(read_id: int, kind: str):
    """Stream one picture of a read in its link's context; audited before a byte is sent.

    Without a context covering the read it is not found: a picture cannot ask for a purpose.
    """
    session = db_session()
    try:
        image = view_read_image(session, acting_user(), read_id, kind, request.args.get("via"))
    except ContextRefused:
        session.commit()  # the refusal's entry
        abort(404, description="No such picture here: pictures open from their read's page.")
    except ReadNotFound:
        session.rollback()
        abort(404, description="No such picture.")
    try:
        data = current_image_store().get(image.sha256)
    except ImageMissing:
        session.rollback()
        abort(404, description="The picture is no longer in the image store.")
    except ImageStoreUnavailable:
        session.rollback()
        abort(503, description="The image store is not answering; try again shortly.")
    session.commit()
    response = send_file(
        io.BytesIO(data), mimetype=image.content_type, conditional=False, etag=False
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _steps(read: Read, forms: dict[str, object]) -> list[StepView]:
    """The row's steps as PlateMachine allows them, each swapping the row through htmx.

    A plate decided meanwhile (or one the camera reported) takes none: the row shows why.
    """
    try:
        machine = PlateMachine.around(read)
    except WorkflowError:
        return []
    return next_step_views(
        machine,
        acting_user(),
        {"confirm": forms["confirm_form"], "correct": forms["correct_form"]},
        lambda event: url_for(f"alpr.review_{event}", read_id=read.id),
        looks={
            "confirm": StepLook(button=f"Confirm {read.plate}"),
            "correct": StepLook(button="Save correction"),
        },
        target=f"#review-row-{read.id}",
        swap="outerHTML",
    )


def _row(read: Read, forms: dict[str, object] | None = None, **extra: object) -> dict[str, object]:
    forms = forms or review_forms(read)
    return {
        "read": read,
        "via": REVIEW_CONTEXT,
        "candidates": candidates(read),
        "steps": _steps(read, forms),
        **extra,
    }


def _render_queue(reads: list[Read]):
    rows = [_row(read) for read in reads]
    template = "alpr/_review_list.html" if htmx else "alpr/review.html"
    return render_template(template, rows=rows)


@bp.get("/review")
@require(ALPR_PERMISSIONS.roles(AlprAction.REVIEW_PLATES), training=True)
def review():
    """Plates OCR was unsure of, for an operator to confirm or correct (page or HTMX list)."""
    session = db_session()
    reads = review_queue(session, acting_user())
    session.commit()
    return _render_queue(reads)


def _decided(read: Read, message: str):
    if htmx:
        return render_template("alpr/_review_row.html", row={"read_id": read.id, "done": message})
    flash(message, "success")
    return redirect(url_for("alpr.review"))


def _destroyed(read_id: int, deleted: Deleted):
    """The decided plate is under an ACP request: the read is gone, and so are its files."""
    finish_tombstones(current_app.extensions["alpr_sessionmaker"], deleted.orphans)
    message = f"Read {read_id} was destroyed at collection under policy 425.5(b)."
    if htmx:
        return render_template("alpr/_review_row.html", row={"read_id": read_id, "done": message})
    flash(message, "success")
    return redirect(url_for("alpr.review"))


def _refused(read: Read, forms: dict[str, object], error: str | None = None):
    """Show the row again with the reason and what was typed, nothing saved.

    htmx swaps only 2xx responses, so it gets the row with 200; a plain form post gets the
    whole queue with 422, this row carrying the typed plate and the error by its field (the
    page shows the queue again, so it is audited as a view of it).
    """
    row = _row(read, forms, error=error)
    if htmx:
        return render_template("alpr/_review_row.html", row=row)
    session = db_session()
    reads = review_queue(session, acting_user())
    session.commit()
    rows = [row if other.id == read.id else _row(other) for other in reads]
    if all(other.id != read.id for other in reads):
        rows.insert(0, row)  # decided meanwhile, or past the page: the reason still shows
    return render_template("alpr/review.html", rows=rows), 422


@bp.post("/review/<int:read_id>/confirm")
@require(ALPR_PERMISSIONS.roles(AlprAction.REVIEW_PLATES), training=True)
def review_confirm(read_id: int):
    """Confirm OCR's plate; audited, then matched against the hotlists."""
    read = load_or_404(Read, read_id)
    forms = review_forms(read)
    if not forms["confirm_form"].validate_on_submit():
        return _refused(read, forms, "The form could not be accepted; reload and try again.")
    session = db_session()
    try:
        deleted = confirm_plate(session, acting_user(), read)
    except WorkflowError as exc:
        session.rollback()
        return _refused(read, forms, str(exc))
    session.commit()
    if deleted is not None:
        return _destroyed(read_id, deleted)
    return _decided(read, f"Read {read.id}: plate {read.plate} confirmed.")


@bp.post("/review/<int:read_id>/correct")
@require(ALPR_PERMISSIONS.roles(AlprAction.REVIEW_PLATES), training=True)
def review_correct(read_id: int):
    """Correct OCR's plate to what the picture shows; audited with before and after."""
    read = load_or_404(Read, read_id)
    forms = review_forms(read)
    form = forms["correct_form"]
    if not form.validate_on_submit():
        return _refused(read, forms)
    session = db_session()
    try:
        deleted = correct_plate(session, acting_user(), read, form.plate.data)
    except WorkflowError as exc:
        session.rollback()
        return _refused(read, forms, str(exc))
    session.commit()
    if deleted is not None:
        return _destroyed(read_id, deleted)
    return _decided(read, f"Read {read.id}: plate corrected to {read.plate}.")
