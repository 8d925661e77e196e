"""AXIS License Plate Verifier (FF Group camera app), "JSON Fields Protocol 1.6" (SPEC.md §3).

Transport: ``multipart/form-data`` with the event JSON in the part ``event`` (a file part, or a
plain field) and the picture in the file part ``image``; the event alone as an
``application/json`` body is accepted too. The plate is ``plateUTF8`` (else ``plateUnicode``,
``plateText``, ``plateASCII``), the first of them in Latin letters when another script is sent;
the time ``capture_timestamp`` (Unix milliseconds, as text), else ``capture_ts``
(nanoseconds), else ``datetime`` (``YYYYMMDD HHMMSSfff``) only when it carries a UTC offset: a
camera's local time without one cannot be placed. The position is ``geotag {lat, lon}`` (else
the deployment's); the picture's kind follows ``imageType`` (``plate``, ``vehicle``, otherwise
the scene). ``plateConfidence`` is 0-1.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from app.alpr.adapters.base import (
    Adapter,
    AdapterError,
    CameraOptions,
    CameraRead,
    Extracted,
    Incoming,
    count_dropped,
    from_epoch,
    json_body,
    load_json,
    number,
    position,
    present,
    require_object,
    text,
    truncate_ms,
)
from app.reads.models import ImageKind

PLATE_FIELDS = ("plateUTF8", "plateUnicode", "plateText", "plateASCII")
USED = (
    *PLATE_FIELDS,
    "capture_timestamp",
    "capture_ts",
    "datetime",
    "geotag",
    "plateConfidence",
    "imageType",
    "plateImageType",
    "camera_info",
)
LOCAL_TIME = re.compile(r"^(\d{8}) (\d{6})(\d{0,3})\s*(Z|[+-]\d{2}:?\d{2})?$")
IMAGE_KINDS = {"plate": ImageKind.PLATE, "vehicle": ImageKind.VEHICLE}


def decode(incoming: Incoming) -> dict[str, Any]:
    """``{"event": <the JSON>, "image": <picture bytes or None>}`` from any transport."""
    if not incoming.is_form:
        return {"event": json_body(incoming), "image": None}
    raw = incoming.files.get("event", incoming.form.get("event"))
    if raw is None:
        raise AdapterError(422, "the form has no 'event' part: send the event's JSON in it")
    return {"event": load_json(raw, "the 'event' part"), "image": incoming.files.get("image")}


def _captured_at(event: dict[str, Any]) -> datetime:
    if present(event.get("capture_timestamp")):
        return from_epoch(event["capture_timestamp"], "capture_timestamp", unit=1000)
    if present(event.get("capture_ts")):
        return from_epoch(event["capture_ts"], "capture_ts", unit=10**9)
    match = LOCAL_TIME.match(text(event.get("datetime")))
    if match is None or match.group(4) is None:
        raise AdapterError(
            422,
            "capture_timestamp is missing and datetime has no UTC offset: the time cannot be read",
        )
    day, clock, millis, zone = match.groups()
    zone = "+00:00" if zone == "Z" else zone
    try:
        parsed = datetime.strptime(f"{day}{clock}{zone.replace(':', '')}", "%Y%m%d%H%M%S%z")
    except ValueError as exc:
        raise AdapterError(422, "datetime is not a readable time") from exc
    return truncate_ms(parsed.replace(microsecond=int((millis or "0").ljust(3, "0")) * 1000))


def _plate(event: dict[str, Any]) -> str:
    """The first spelling in Latin letters, else the first one sent.

    A camera reading a plate in another script (Cyrillic, say) sends it as read in
    ``plateUTF8`` and its Latin transliteration in ``plateASCII``; plates are kept in Latin
    letters and digits (app.reads.plates).
    """
    spellings = [text(event.get(name)) for name in PLATE_FIELDS if text(event.get(name))]
    return next(
        (plate for plate in spellings if plate.isascii()), spellings[0] if spellings else ""
    )


def extract(decoded: dict[str, Any], options: CameraOptions) -> Extracted:
    """The event's one read, with its picture (module docstring)."""
    event = require_object(decoded["event"], "the event")
    extracted = Extracted()
    count_dropped(extracted.discarded, event, used=USED)
    camera = event.get("camera_info")
    if isinstance(camera, dict):
        count_dropped(extracted.discarded, camera, used=("SerialNumber",), prefix="camera_info.")
    plate = _plate(event)
    geotag = event.get("geotag") if isinstance(event.get("geotag"), dict) else {}
    latitude, longitude = position(
        geotag.get("lat", geotag.get("latitude")),
        geotag.get("lon", geotag.get("longitude")),
        "geotag",
    )
    kind = IMAGE_KINDS.get(text(event.get("imageType")).lower(), ImageKind.OVERVIEW)
    image = decoded["image"]
    extracted.reads.append(
        CameraRead(
            plate=plate,
            captured_at=_captured_at(event),
            latitude=latitude,
            longitude=longitude,
            images=((kind, image),) if image else (),
            confidence=number(event.get("plateConfidence"), "plateConfidence"),
        )
    )
    return extracted


ADAPTER = Adapter(name="axis", decode=decode, extract=extract)
