"""Plate Recognizer Stream (video) and Snapshot (image API) webhooks (SPEC.md §2).

Transport, as Stream's ``webhook_targets`` and Snapshot's webhooks send it: ``multipart/
form-data`` with the JSON in the form field (or file part) ``json`` and the picture in the
file ``upload``; ``application/x-www-form-urlencoded`` with the ``json`` field alone; or the
JSON as the raw ``application/json`` body. Authentication is Stream's ``webhook_header``,
``Authorization: Token <device token>``.

Envelope ``{"hook": {...}, "data": {...}}``: ``data.timestamp`` (ISO 8601, UTC) is the time;
each of ``data.results`` is one read. Both result shapes are read: the flat one
(``"plate": "abc123", "score": 0.9``) and Stream's newer nested one (``"plate": {"props":
{"plate": [{"value", "score"}]}}``), the first candidate being the reading. There is no
position: the camera's deployment gives it. The ``upload`` is Stream's vehicle crop (its
default ``webhook_image_type``) or Snapshot's whole image, so it is kept as the vehicle or the
overview picture of every read in the payload.
"""

from __future__ import annotations

from typing import Any

from app.alpr.adapters.base import (
    Adapter,
    AdapterError,
    CameraOptions,
    CameraRead,
    Extracted,
    Incoming,
    count_dropped,
    iso_time,
    json_body,
    load_json,
    number,
    present,
    require_object,
    text,
)
from app.reads.models import ImageKind

DATA_USED = ("timestamp", "results", "camera_id")
RESULT_USED = ("plate", "score")
NESTED_PLATE_USED = ("props",)
SNAPSHOT_EVENT = "image.done"


def decode(incoming: Incoming) -> dict[str, Any]:
    """``{"document": <the JSON>, "upload": <picture bytes or None>}`` from any transport."""
    if not incoming.is_form:
        return {"document": json_body(incoming), "upload": None}
    raw = incoming.form.get("json")
    if raw is None and "json" in incoming.files:
        raw = incoming.files["json"]
    if raw is None:
        raise AdapterError(422, "the form has no 'json' field: send the webhook's JSON in it")
    return {"document": load_json(raw, "the 'json' field"), "upload": incoming.files.get("upload")}


def _plate_and_score(result: dict[str, Any], extracted: Extracted) -> tuple[str, Any]:
    """The reading of a flat or a nested result; the nested one's other parts are counted."""
    plate = result.get("plate")
    if not isinstance(plate, dict):
        return text(plate), result.get("score")
    count_dropped(extracted.discarded, plate, used=NESTED_PLATE_USED, prefix="results.plate.")
    props = plate.get("props") if isinstance(plate.get("props"), dict) else {}
    count_dropped(extracted.discarded, props, used=("plate",), prefix="results.plate.props.")
    readings = props.get("plate") if isinstance(props.get("plate"), list) else []
    if len(readings) > 1:
        extracted.discarded["results.plate.props.plate (other candidates)"] += 1
    first = readings[0] if readings and isinstance(readings[0], dict) else {}
    return text(first.get("value")), first.get("score", plate.get("score"))


def extract(decoded: dict[str, Any], options: CameraOptions) -> Extracted:
    """One read per result, each with the upload (module docstring)."""
    document = require_object(decoded["document"])
    hook = document.get("hook") if isinstance(document.get("hook"), dict) else {}
    data = document.get("data") if isinstance(document.get("data"), dict) else document
    extracted = Extracted()
    count_dropped(extracted.discarded, data, used=(*DATA_USED, "hook"))
    results = data.get("results")
    if present(results) and not isinstance(results, list):
        raise AdapterError(422, "data.results must be a list of results")
    if not results:
        return extracted
    captured_at = iso_time(data.get("timestamp"), "data.timestamp")
    kind = ImageKind.OVERVIEW if hook.get("event") == SNAPSHOT_EVENT else ImageKind.VEHICLE
    upload = decoded["upload"]
    images = ((kind, upload),) if upload else ()
    for result in results:
        if not isinstance(result, dict):
            raise AdapterError(422, "each of data.results must be an object")
        count_dropped(
            extracted.discarded, result, used=RESULT_USED, expand=("vehicle",), prefix="results."
        )
        plate, score = _plate_and_score(result, extracted)
        extracted.reads.append(
            CameraRead(
                plate=plate,
                captured_at=captured_at,
                latitude=None,
                longitude=None,
                images=images,
                confidence=number(score, "results.score"),
            )
        )
    return extracted


ADAPTER = Adapter(name="platerecognizer", decode=decode, extract=extract)
