"""`POST /api/v1/reads/image`: a camera sends a read as pictures; OCR reads a missing plate."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, jsonify, request
from sqlalchemy.exc import IntegrityError

from app.alpr.api import api_bp
from app.alpr.api.auth import device_required
from app.alpr.image_reads import IncomingImage, receive_image_read, take_back_images
from app.alpr.ingest.validation import (
    READ_FIELDS,
    IngestRefused,
    ReadIn,
    parse_captured_at,
    parse_client_read_id,
    parse_coordinate,
)
from app.db import db_session, utcnow
from app.jobs.services import create_run
from app.reads.images import ImageRejected, clean_image
from app.reads.models import ImageKind, PlateStatus, Read
from app.reads.plates import FieldError, normalise_plate
from workers.ocr import ocr_read
from workers.queue import enqueue_run

IMAGE_FIELDS = frozenset(kind.value for kind in ImageKind)


class UploadRefused(Exception):
    """The upload is refused as a whole; nothing is stored."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def _refuse(error: UploadRefused):
    response = jsonify(error=error.message, status=error.status, **error.extra)
    response.status_code = error.status
    return response


def _check_field_names() -> None:
    """425.4.1(a): a read carries nothing else, so any other field is named and refused."""
    unknown = sorted(set(request.form) - READ_FIELDS) + sorted(set(request.files) - IMAGE_FIELDS)
    if unknown:
        raise UploadRefused(
            422,
            "fields outside policy 425.4.1(a) are not accepted: " + ", ".join(unknown),
            fields=unknown,
        )
    repeated = sorted(
        {name for name in request.form if len(request.form.getlist(name)) > 1}
        | {name for name in request.files if len(request.files.getlist(name)) > 1}
    )
    if repeated:
        raise UploadRefused(
            422, "fields sent more than once: " + ", ".join(repeated), fields=repeated
        )


def _read_fields() -> ReadIn:
    """The read's text fields, checked by the JSON ingest's rules; the plate is optional here."""
    form = request.form
    config = current_app.config
    try:
        plate = form.get("plate", "").strip()
        return ReadIn(
            index=0,
            plate=normalise_plate(plate) if plate else "",
            captured_at=parse_captured_at(
                form.get("captured_at"),
                now=utcnow(),
                clock_skew_seconds=config["CLOCK_SKEW_SECONDS"],
                retention_days=config["RETENTION_DAYS"],
            ),
            latitude=parse_coordinate(form.get("latitude"), "latitude"),
            longitude=parse_coordinate(form.get("longitude"), "longitude"),
            client_read_id=parse_client_read_id(form.get("client_read_id")),
        )
    except FieldError as exc:
        raise UploadRefused(422, str(exc), field=exc.field) from exc


def _images() -> list[IncomingImage]:
    """Every picture, checked by content; none is written until all of them pass."""
    if not request.files:
        raise UploadRefused(
            422, "send at least one picture as a file field: plate, vehicle or overview"
        )
    max_bytes = current_app.config["IMAGE_MAX_BYTES"]
    images = []
    for kind in ImageKind:
        storage = request.files.get(kind.value)
        if storage is None:
            continue
        data = storage.stream.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise UploadRefused(
                413, f"{kind.value}: the picture is larger than {max_bytes} bytes", field=kind.value
            )
        try:
            clean = clean_image(data, max_bytes=max_bytes)
        except ImageRejected as exc:
            raise UploadRefused(422, f"{kind.value}: {exc}", field=kind.value) from exc
        images.append(IncomingImage(kind, clean.data, clean.info))
    return images


@api_bp.post("/reads/image")
@device_required
def upload_read_image():
    """Store a read with its pictures; without a plate it is queued for OCR (DESIGN.md contract)."""
    try:
        _check_field_names()
        fields = _read_fields()
        images = _images()
    except UploadRefused as refused:
        return _refuse(refused)
    session = db_session()
    gap = current_app.config["ACTIVE_USE_GAP_MINUTES"]
    try:
        outcome = receive_image_read(session, g.device, fields, images, gap_minutes=gap)
        read, run = outcome.read, None
        if outcome.outcome == "stored" and read.plate_status == PlateStatus.PENDING_OCR.value:
            run = create_run(session, "ocr_read", read_id=read.id)
        session.commit()
    except BaseException as exc:
        session.rollback()
        take_back_images(session, [image.info.sha256 for image in images])
        if isinstance(exc, IngestRefused):
            return _refuse(UploadRefused(exc.status, exc.message))
        if isinstance(exc, IntegrityError) and fields.client_read_id is not None:
            return _refuse(
                UploadRefused(409, "a read with this client_read_id is being stored; resend later")
            )
        raise
    body: dict[str, Any] = {"outcome": outcome.outcome, "read_id": None, "ocr_job": None}
    if read is None:
        return jsonify(body), 200
    body |= {"read_id": read.id, "ocr_job": run.id if run is not None else None}
    if run is not None:
        enqueue_run(ocr_read, run.id, run.attempts, read.id)
        session.expire_all()  # without Redis the OCR job has already run and committed
        read = session.get(Read, body["read_id"])
    body["plate_status"] = read.plate_status if read is not None else "destroyed_acp"
    body["images"] = [
        {"kind": i.kind, "sha256": i.sha256, "width": i.width, "height": i.height}
        for i in (read.images if read is not None else [])
    ]
    return jsonify(body), 201 if outcome.outcome == "stored" else 200
