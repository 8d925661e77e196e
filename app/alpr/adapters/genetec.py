"""Genetec AutoVu / Security Center reads pushed as JSON (SPEC.md §3).

Transport: ``application/json``, one read object (or a list of them). ``Plate`` is the plate;
``DateUtc`` and ``TimeUtc`` the time in UTC. The date is written in the Windows locale of the
Security Center server — ``10/24/2024`` in the United States, ``24/10/2024`` elsewhere — so the
device's registered date order (``--date-order MDY|DMY|YMD``, MDY by default) decides which
part is the month; a date with the year first (``2024-10-24``) is read as such whatever the
order, and a date that does not fit the order is refused, never guessed. The time may carry a
fraction (.NET writes up to seven digits) and AM/PM; a time after the date in ``DateUtc`` is
read only when ``TimeUtc`` is missing. ``Latitude``/``Longitude`` are decimal text (a decimal
comma is read); ``PlateImage`` and ``ContextImage`` (base64) are the plate and scene pictures;
``ConfidenceScore`` is 0-100 text. Genetec sends no header or signature: use ``?token=``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from app.alpr.adapters.base import (
    Adapter,
    AdapterError,
    CameraOptions,
    CameraRead,
    Extracted,
    base64_picture,
    count_dropped,
    json_body,
    number,
    position,
    text,
    truncate_ms,
)
from app.reads.models import DateOrder, ImageKind

USED = (
    "Plate",
    "DateUtc",
    "TimeUtc",
    "Latitude",
    "Longitude",
    "PlateImage",
    "ContextImage",
    "ConfidenceScore",
    "CameraName",
    "SharpName",
)
DATE = re.compile(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})$")
#: 24-hour or AM/PM ("PM", "pm", "p.m." in Canadian English), with up to 9 digits of a second.
TIME = re.compile(
    r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(?:([AaPp])\.?\s?[Mm]\.?)?$"
)


def _date(raw: str, order: str) -> tuple[int, int, int]:
    """(year, month, day) of a date written in the device's order."""
    match = DATE.match(raw)
    if match is None:
        raise AdapterError(422, f"DateUtc {raw[:40]!r} is not a date")
    first, second, third = match.groups()
    if len(first) == 4:
        return int(first), int(second), int(third)
    if order == DateOrder.YMD.value or len(third) != 4:
        raise AdapterError(
            422, f"DateUtc {raw[:40]!r} does not fit the device's date order {order}"
        )
    if order == DateOrder.DMY.value:
        return int(third), int(second), int(first)
    return int(third), int(first), int(second)


def _time(raw: str) -> tuple[int, int, int, int]:
    """(hour, minute, second, microsecond) of a 24-hour or AM/PM time."""
    match = TIME.match(raw)
    if match is None:
        raise AdapterError(422, f"TimeUtc {raw[:40]!r} is not a time")
    hour, minute, second, fraction, meridiem = match.groups()
    hours = int(hour)
    if meridiem:
        if not 1 <= hours <= 12:
            raise AdapterError(422, f"TimeUtc {raw[:40]!r} is not a time")
        hours = hours % 12 + (12 if meridiem.lower() == "p" else 0)
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    return hours, int(minute), int(second or 0), micros


def _captured_at(read: dict[str, Any], order: str) -> datetime:
    # "10/24/2024 13:45:12" in one field; or a whole DateTime's date ("10/24/2024 12:00:00 AM")
    # beside the TimeUtc that holds the time
    day_text, _, day_clock = text(read.get("DateUtc")).partition(" ")
    time_text = text(read.get("TimeUtc")) or day_clock.strip()
    if not day_text or not time_text:
        raise AdapterError(422, "DateUtc and TimeUtc are required: the time cannot be read")
    try:
        return truncate_ms(datetime(*_date(day_text, order), *_time(time_text.strip()), tzinfo=UTC))
    except ValueError as exc:
        raise AdapterError(422, f"DateUtc {day_text[:20]!r} {time_text[:20]!r} is no date") from exc


def _decimal(value: Any) -> Any:
    """A coordinate as Genetec writes it; a decimal comma (a European locale) becomes a point."""
    if isinstance(value, str) and "," in value and "." not in value:
        return value.replace(",", ".")
    return value


def _read(read: Any, options: CameraOptions, extracted: Extracted) -> None:
    if not isinstance(read, dict):
        raise AdapterError(400, "a Genetec read must be a JSON object")
    count_dropped(extracted.discarded, read, used=USED, expand=("Attributes",))
    latitude, longitude = position(
        _decimal(read.get("Latitude")), _decimal(read.get("Longitude")), "Latitude/Longitude"
    )
    pictures = (
        (ImageKind.PLATE, base64_picture(read.get("PlateImage"), "PlateImage")),
        (ImageKind.OVERVIEW, base64_picture(read.get("ContextImage"), "ContextImage")),
    )
    confidence = number(read.get("ConfidenceScore"), "ConfidenceScore")
    extracted.reads.append(
        CameraRead(
            plate=text(read.get("Plate")),
            captured_at=_captured_at(read, options.date_order),
            latitude=latitude,
            longitude=longitude,
            images=tuple((kind, data) for kind, data in pictures if data),
            confidence=confidence / 100 if confidence is not None else None,
        )
    )


def extract(document: Any, options: CameraOptions) -> Extracted:
    """One read per object (module docstring)."""
    extracted = Extracted()
    for read in document if isinstance(document, list) else [document]:
        _read(read, options, extracted)
    return extracted


ADAPTER = Adapter(name="genetec", decode=json_body, extract=extract)
