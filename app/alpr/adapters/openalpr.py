"""OpenALPR agent (alprd, "Watchman") and Rekor Scout webhooks: one JSON object per POST.

Told apart by ``data_type`` (SPEC.md §1; docs.rekor.ai "JSON Group Results"):

- ``alpr_group``: one vehicle pass, the read to keep: ``best_plate_number`` (else
  ``best_plate.plate``), the best frame's time ``best_uuid_epoch_ms`` when it lies within the
  group's ``epoch_start``..``epoch_end`` (else ``epoch_start``), ``gps_latitude``/``gps_longitude``
  (0, 0 or absent: the deployment's), and the plate crop, vehicle crop and overview pictures;
- ``alpr_alert`` (Scout): a hotlist hit wrapping a full ``group``, read exactly like one; its
  key is the group's ``best_uuid``, so the plain group Scout also sends is the same read; the
  alert's own list fields are Rekor's hotlist data, not a read, and are dropped;
- ``alpr_results``: one video frame (about 50 per vehicle, no position) duplicates the
  group: acknowledged and not kept (each result counted as a read skipped);
- ``vehicle``: a vehicle seen without a plate: nothing lawful to keep;
- ``heartbeat``: liveness only; its licence key and stream URLs are never kept;
- ``{"openalpr_webhook": "test"}``: Scout's test ping, answered and stored nowhere.

A group may arrive without ``data_type`` (older agents, and ``"data_type": null`` wrappers):
an object with a ``best_plate_number`` or ``best_plate`` is a group, one with a ``group``
object an alert. Times are Unix milliseconds; confidence is 0-100.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from app.alpr.adapters.base import (
    NO_PLATE,
    Adapter,
    AdapterError,
    CameraOptions,
    CameraRead,
    Extracted,
    base64_picture,
    count_dropped,
    from_epoch,
    json_body,
    number,
    position,
    present,
    require_object,
    text,
)
from app.reads.models import ImageKind

#: Fields that route, version or authenticate a message: neither kept nor counted.
ENVELOPE = ("data_type", "version", "custom_data", "openalpr_webhook")
#: The group's fields the read is made of (or that choose its time).
GROUP_USED = (
    "best_plate_number",
    "best_confidence",
    "epoch_start",
    "epoch_end",
    "best_uuid_epoch_ms",
    "gps_latitude",
    "gps_longitude",
    "best_uuid",
    "vehicle_crop_jpeg",
    "overview_jpeg",
    "camera_id",
    *ENVELOPE,
)
BEST_PLATE_USED = ("plate", "confidence", "plate_crop_jpeg")
#: The secret a Scout webhook's "Custom Data" carries (mibs510/OpenALPR-Webhook's key first).
CUSTOM_DATA_KEYS = ("API_KEY", "api_key", "apiKey", "token", "Token", "TOKEN")


def vendor_token(document: Any) -> str | None:
    """The device token in Rekor Scout's ``custom_data`` (an object, or its JSON text)."""
    custom = document.get("custom_data") if isinstance(document, dict) else None
    if isinstance(custom, str):
        try:
            custom = json.loads(custom)
        except ValueError:
            return None
    if not isinstance(custom, dict):
        return None
    for key in CUSTOM_DATA_KEYS:
        value = custom.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _kind(document: dict[str, Any]) -> str:
    kind = document.get("data_type")
    if isinstance(kind, str) and kind:
        return kind
    if document.get("openalpr_webhook") == "test":
        return "test"
    if isinstance(document.get("group"), dict):
        return "alpr_alert"
    if "best_plate_number" in document or "best_plate" in document:
        return "alpr_group"
    if "video_streams" in document or "license_key" in document:
        return "heartbeat"
    if "results" in document and "epoch_time" in document:
        return "alpr_results"
    return ""


def _group_time(group: dict[str, Any]) -> Any:
    """The best frame's time if it lies within the pass, else the first sighting."""
    start = from_epoch(group.get("epoch_start"), "epoch_start", unit=1000)
    if not present(group.get("best_uuid_epoch_ms")):
        return start
    best = from_epoch(group["best_uuid_epoch_ms"], "best_uuid_epoch_ms", unit=1000)
    end = (
        from_epoch(group["epoch_end"], "epoch_end", unit=1000)
        if present(group.get("epoch_end"))
        else start
    )
    return best if start <= best <= max(start, end) else start


def _source_id(group: dict[str, Any]) -> str | None:
    """A key for the group: a digest of ``best_uuid``, which itself names the agent."""
    best_uuid = text(group.get("best_uuid"))
    if not best_uuid:
        return None
    return "oa-" + hashlib.sha256(best_uuid.encode("utf-8")).hexdigest()[:40]


def _group_read(group: dict[str, Any], extracted: Extracted) -> None:
    """The read of one vehicle pass, or a counted skip when it has no plate."""
    best = group.get("best_plate") if isinstance(group.get("best_plate"), dict) else {}
    count_dropped(extracted.discarded, group, used=(*GROUP_USED, "best_plate"), expand=("vehicle",))
    count_dropped(extracted.discarded, best, used=BEST_PLATE_USED, prefix="best_plate.")
    plate = text(group.get("best_plate_number")) or text(best.get("plate"))
    if not plate:
        extracted.skipped[NO_PLATE] += 1
        return
    latitude, longitude = position(group.get("gps_latitude"), group.get("gps_longitude"), "gps")
    confidence = number(group.get("best_confidence", best.get("confidence")), "best_confidence")
    plate_crop = base64_picture(best.get("plate_crop_jpeg"), "best_plate.plate_crop_jpeg")
    pictures = (
        (ImageKind.PLATE, plate_crop),
        (ImageKind.VEHICLE, base64_picture(group.get("vehicle_crop_jpeg"), "vehicle_crop_jpeg")),
        (ImageKind.OVERVIEW, base64_picture(group.get("overview_jpeg"), "overview_jpeg")),
    )
    extracted.reads.append(
        CameraRead(
            plate=plate,
            captured_at=_group_time(group),
            latitude=latitude,
            longitude=longitude,
            images=tuple((kind, data) for kind, data in pictures if data),
            confidence=confidence / 100 if confidence is not None else None,
            source_id=_source_id(group),
        )
    )


def _count_all(discarded: Counter[str], document: dict[str, Any], used=ENVELOPE) -> None:
    count_dropped(discarded, document, used=used, expand=("vehicle",))


def extract(document: Any, options: CameraOptions) -> Extracted:
    """The reads of one agent or Scout message (module docstring)."""
    document = require_object(document)
    extracted = Extracted()
    kind = _kind(document)
    if kind == "test":
        extracted.ping = True
    elif kind == "alpr_group":
        _group_read(document, extracted)
    elif kind == "alpr_alert":
        group = document.get("group")
        if not isinstance(group, dict):
            raise AdapterError(422, "an alpr_alert carries its read in a 'group' object")
        _count_all(extracted.discarded, document, used=(*ENVELOPE, "group"))
        _group_read(group, extracted)
    elif kind == "alpr_results":
        results = document.get("results")
        skipped = len(results) if isinstance(results, list) else 0
        extracted.skipped["(alpr_results: per-frame reads, kept from the group)"] += skipped
        _count_all(extracted.discarded, document, used=(*ENVELOPE, "results"))
    elif kind == "vehicle":
        extracted.skipped["(vehicle: a vehicle without a plate)"] += 1
        _count_all(extracted.discarded, document)
    elif kind == "heartbeat":
        extracted.heartbeat = True
        _count_all(extracted.discarded, document, used=(*ENVELOPE, "video_streams"))
        streams = document.get("video_streams")
        for stream in streams if isinstance(streams, list) else []:
            if isinstance(stream, dict):
                count_dropped(extracted.discarded, stream, prefix="video_streams.")
    else:
        raise AdapterError(
            422,
            "unknown OpenALPR message: data_type must be alpr_group, alpr_alert, alpr_results, "
            "vehicle or heartbeat",
        )
    return extracted


ADAPTER = Adapter(name="openalpr", decode=json_body, extract=extract, vendor_token=vendor_token)
