"""The reads waiting for OCR, oldest first, with their age (app.alpr.pending_ocr)."""

from __future__ import annotations

from flask import render_template

from app.alpr.pending_ocr import pending_ocr_page
from app.alpr.permissions import ALPR_PERMISSIONS, AlprAction
from app.alpr.views import bp
from app.auth.access import require
from app.core.pages import acting_user, requested_page
from app.db import db_session


@bp.get("/pending-ocr")
@require(ALPR_PERMISSIONS.roles(AlprAction.USE_DATA), training=True)
def pending_ocr():
    """Reads no OCR has read yet: device, capture time, how long each has waited (paged).

    Like the other staff lists, a `page` that is not a number is the first and one out of range
    is the nearest there is, so a stale or hand-edited link still shows the queue.
    """
    session = db_session()
    page = pending_ocr_page(session, acting_user(), requested_page())
    session.commit()
    return render_template("alpr/pending_ocr.html", page=page)
