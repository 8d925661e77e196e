"""The reads waiting for OCR, oldest first, with their age (app.alpr.pending_ocr)."""

from __future__ import annotations

from flask import abort, render_template, request

from app.alpr.pending_ocr import pending_ocr_page
from app.alpr.permissions import ALPR_PERMISSIONS, AlprAction
from app.alpr.views import bp
from app.auth.access import require
from app.core.pages import acting_user
from app.db import db_session


@bp.get("/pending-ocr")
@require(ALPR_PERMISSIONS.roles(AlprAction.USE_DATA), training=True)
def pending_ocr():
    """Reads no OCR has read yet: device, capture time, how long each has waited (paged)."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or len(raw) > 9:
        abort(404)
    session = db_session()
    try:
        page = pending_ocr_page(session, acting_user(), int(raw))
    except LookupError:
        abort(404)
    session.commit()
    return render_template("alpr/pending_ocr.html", page=page)
