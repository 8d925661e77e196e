"""Verkada Command LPR webhooks (SPEC.md §3; apidocs.verkada.com/reference/lpr).

Transport: ``application/json``, ``{"webhook_type": "lpr", "data": {...}}``, signed with the
``Verkada-Signature`` header (:mod:`app.alpr.adapters.signatures`). The plate is
``data.license_plate_number``; the time ``data.detected`` (Unix milliseconds) when present, else
``data.created`` (seconds); ``data.confidence`` is 0-1. There is no position: the camera's
deployment gives it. ``data.image_url`` is a link to a picture on Verkada's servers, not a
picture: it is not fetched, and counted as discarded like the plate's state and crop box.
A webhook of another type (an org-wide webhook sends every event) is answered and not kept;
the type is compared without case (the docs' sample writes ``lpr``, their field table ``LPR``).
"""

from __future__ import annotations

from typing import Any

from app.alpr.adapters.base import (
    Adapter,
    AdapterError,
    CameraOptions,
    CameraRead,
    Extracted,
    count_dropped,
    from_epoch,
    json_body,
    number,
    present,
    require_object,
    text,
)

ENVELOPE = ("webhook_type", "data")
DATA_USED = ("license_plate_number", "detected", "created", "confidence", "camera_id")
OTHER_EVENT = "(a Verkada webhook that is not an LPR event)"


def extract(document: Any, options: CameraOptions) -> Extracted:
    """The webhook's one read (module docstring)."""
    document = require_object(document)
    extracted = Extracted()
    kind = document.get("webhook_type")
    if present(kind) and text(kind).lower() != "lpr":  # the field table writes "LPR"
        extracted.skipped[OTHER_EVENT] += 1
        return extracted
    data = document.get("data")
    if not isinstance(data, dict):
        raise AdapterError(422, "an LPR webhook carries its read in a 'data' object")
    count_dropped(extracted.discarded, document, used=ENVELOPE)
    count_dropped(extracted.discarded, data, used=DATA_USED, prefix="data.")
    if present(data.get("detected")):
        captured_at = from_epoch(data["detected"], "data.detected", unit=1000)
    else:
        captured_at = from_epoch(data.get("created"), "data.created", unit=1)
    extracted.reads.append(
        CameraRead(
            plate=text(data.get("license_plate_number")),
            captured_at=captured_at,
            latitude=None,
            longitude=None,
            confidence=number(data.get("confidence"), "data.confidence"),
        )
    )
    return extracted


ADAPTER = Adapter(name="verkada", decode=json_body, extract=extract, signed=True)
