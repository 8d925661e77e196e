"""The OCR job: read the plate of an image-only read.

It takes ids only, tracks itself with a JobRun row and commits once with its audit entry. The
JobRun's result holds the outcome and confidence, never the plate: job rows outlive the reads'
60-day retention, audit details can be redacted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy.orm import Session

from app.alpr.image_reads import images_for_ocr, record_ocr_result
from app.jobs.models import JobRun
from app.jobs.services import run_tracked
from app.reads.image_store import ImageMissing
from app.reads.images import current_image_store
from app.reads.models import ImageKind, PlateStatus, Read
from app.retention.destruction import Deleted, finish_tombstones
from workers.context import with_app_context

if TYPE_CHECKING:
    from app.alpr.ocr.pipeline import OcrResult


def _sessions() -> Session:
    return current_app.extensions["alpr_sessionmaker"]()


def read_best_plate(read: Read) -> tuple[OcrResult, ImageKind | None]:
    """Try the plate crop first, then the wider pictures, until one yields a plate."""
    from app.alpr.ocr.pipeline import OcrResult, UnreadableImage, read_plate  # loads OpenCV

    result, used = OcrResult("", 0.0, True, {}), None
    store = current_image_store()
    for image in images_for_ocr(read):
        kind = ImageKind(image.kind)
        try:
            attempt = read_plate(store.get(image.sha256), cropped=kind is ImageKind.PLATE)
        except (UnreadableImage, ImageMissing):
            continue
        result, used = attempt, kind
        if attempt.plate:
            break
    return result, used


@with_app_context
def ocr_read(read_id: int, run_id: int | None = None) -> dict[str, Any]:
    """Run the OCR pipeline on a read waiting at ``pending_ocr`` and record its verdict.

    A read that is gone (destroyed before its turn) or no longer pending (a retried job) is
    left alone and reported as such. A plate under an ACP request destroys the read (425.5(b));
    its files go once the job has committed.
    """
    destroyed: list[Deleted] = []

    def work(session: Session, run: JobRun) -> dict[str, Any]:
        read = session.get(Read, read_id, with_for_update=True)
        if read is None:
            return {"read_id": read_id, "outcome": "gone"}
        if read.plate_status != PlateStatus.PENDING_OCR.value:
            return {"read_id": read_id, "outcome": "skipped", "plate_status": read.plate_status}
        result, kind = read_best_plate(read)
        deleted = record_ocr_result(session, read, result, kind)
        if deleted is not None:
            destroyed.append(deleted)
            return {"read_id": read_id, "outcome": "destroyed_acp"}
        return {
            "read_id": read_id,
            "outcome": "done",
            "plate_status": read.plate_status,
            "confidence": result.confidence,
            "image": kind.value if kind else None,
        }

    outcome = run_tracked(_sessions, "ocr_read", run_id, work)
    for deleted in destroyed:
        finish_tombstones(_sessions, deleted.orphans)
    return outcome
