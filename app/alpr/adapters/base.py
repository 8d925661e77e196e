"""What every adapter shares: the request as it arrived, the reads it yields, and the parsers.

An adapter turns a vendor's payload into :class:`CameraRead` values — plate, time, location,
pictures, and the confidence and idempotency key that only steer processing — and names every
other field it saw in :attr:`Extracted.discarded` (field names, never values) so the device
page can say what the camera sends that is thrown away. Nothing else leaves an adapter.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.reads.models import ImageKind

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Field names are stored as counter keys: only plain identifiers, never free text.
FIELD_NAME = re.compile(r"[A-Za-z0-9_.\- ]{1,80}")
UNNAMED_FIELD = "(a field with an unusual name)"
#: Reads an adapter keeps no part of, counted beside the fields (the device page names them).
NO_PLATE = "(read without a plate)"
INVALID_PLATE = "(read whose plate is not a plate)"
PAST_RETENTION = "(read already past retention)"
JSON_TYPES = ("application/json", "text/json", "text/plain", "")


class AdapterError(ValueError):
    """The payload is refused whole (nothing stored): `status` and a message for the sender."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Incoming:
    """A request's body as the view received it: no Flask object crosses into an adapter.

    `body` is the raw body for anything that is not a form; `form` and `files` hold the fields
    and file parts of ``multipart/form-data`` or ``application/x-www-form-urlencoded``.
    """

    content_type: str
    body: bytes = b""
    form: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def is_form(self) -> bool:
        """Whether the body came as form fields and file parts."""
        return self.content_type in ("multipart/form-data", "application/x-www-form-urlencoded")


@dataclass(frozen=True)
class CameraOptions:
    """What the registration says about a camera's payloads (its date order)."""

    date_order: str = "MDY"


@dataclass(frozen=True)
class CameraRead:
    """The normalised record (SPEC.md): all that survives the adapter.

    `plate` is the camera's text (normalised later by the ingest's one spelling); `latitude`
    and `longitude` are None when the payload has no position (the deployment gives it);
    `source_id` is a short key that makes a resend or an alert's copy of a group the same read.
    """

    plate: str
    captured_at: datetime
    latitude: float | None
    longitude: float | None
    images: tuple[tuple[ImageKind, bytes], ...] = ()
    confidence: float | None = None
    source_id: str | None = None


@dataclass
class Extracted:
    """What an adapter made of a payload: reads, the fields it dropped, reads it skipped."""

    reads: list[CameraRead] = field(default_factory=list)
    discarded: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    heartbeat: bool = False
    #: A vendor's test message: answered, nothing stored or counted.
    ping: bool = False


@dataclass(frozen=True)
class Adapter:
    """One vendor format: how its body is decoded, where its own secret is, how reads come out.

    `vendor_token` finds a credential inside the decoded document (Rekor's ``custom_data``);
    `signed` says the vendor signs the body (Verkada), checked by the route.
    """

    name: str
    decode: Callable[[Incoming], Any]
    extract: Callable[[Any, CameraOptions], Extracted]
    vendor_token: Callable[[Any], str | None] = lambda document: None
    signed: bool = False


# --- decoding -------------------------------------------------------------------------------


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def load_json(raw: bytes | str, what: str = "the body") -> Any:
    """Strict JSON: UTF-8, no NaN or Infinity, bounded nesting; 400 with a reason otherwise."""
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        if not text.strip():
            raise AdapterError(400, f"{what} is empty: send the camera's JSON")
        return json.loads(text, parse_constant=_reject_constant)
    except AdapterError:
        raise
    except UnicodeDecodeError as exc:
        raise AdapterError(400, f"{what} is not UTF-8 text") from exc
    except RecursionError as exc:
        raise AdapterError(400, f"{what} is nested too deeply to be a camera's JSON") from exc
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, an integer of > 4300 digits
        raise AdapterError(400, f"{what} is not valid JSON: {str(exc)[:120]}") from exc


def json_body(incoming: Incoming) -> Any:
    """The raw body as JSON, for formats that post only JSON (a form is the wrong transport)."""
    kind = incoming.content_type
    if incoming.is_form or not (kind in JSON_TYPES or kind.endswith("+json")):
        raise AdapterError(415, f"send this format as application/json, not {kind[:60]}")
    return load_json(incoming.body)


def require_object(document: Any, what: str = "the body") -> dict[str, Any]:
    """The document as a JSON object, or 400."""
    if not isinstance(document, dict):
        raise AdapterError(400, f"{what} must be a JSON object")
    return document


# --- values ---------------------------------------------------------------------------------


def present(value: Any) -> bool:
    """Whether a field carries anything (an empty string, list or null sends nothing)."""
    return value not in (None, "", [], {})


def text(value: Any) -> str:
    """A plate or id as text ('' when absent); numbers are accepted as the camera's text."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, int | float | str):
        return str(value).strip()
    return ""


def number(value: Any, what: str) -> float | None:
    """A finite number from a JSON number or its text; None when absent; 422 when not one."""
    if not present(value):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise AdapterError(422, f"{what} must be a number")
    try:
        result = float(value)
    except (ValueError, OverflowError) as exc:
        raise AdapterError(422, f"{what} must be a number") from exc
    if not math.isfinite(result):
        raise AdapterError(422, f"{what} must be a finite number")
    return result


def position(latitude: Any, longitude: Any, what: str) -> tuple[float | None, float | None]:
    """A payload's position, or (None, None) when it has none.

    An agent without a GPS fix or configured position sends 0, 0 (a point in the Gulf of
    Guinea): that is no position, so the camera's deployment gives the location instead.
    """
    lat = number(latitude, f"{what} latitude")
    lon = number(longitude, f"{what} longitude")
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return None, None
    return lat, lon


def from_epoch(value: Any, what: str, *, unit: int) -> datetime:
    """A Unix time in seconds (`unit` 1), milliseconds (1000) or nanoseconds (10**9), UTC."""
    if isinstance(value, bool) or not isinstance(value, int | float | str) or value == "":
        raise AdapterError(422, f"{what} is missing or is not a Unix time")
    try:
        if isinstance(value, str):
            value = value.strip()
            amount = int(value) if value.lstrip("-").isdigit() else float(value)
        else:
            amount = value
        if isinstance(amount, float) and not math.isfinite(amount):
            raise ValueError(value)
        micros = int(amount) * 1_000_000 // unit if isinstance(amount, int) else None
        if micros is None:
            micros = round(amount * 1_000_000 / unit)
        return truncate_ms(EPOCH + timedelta(microseconds=micros))
    except (ValueError, OverflowError) as exc:
        raise AdapterError(422, f"{what} is not a readable Unix time") from exc


def truncate_ms(value: datetime) -> datetime:
    """Reads are kept to the millisecond (SPEC.md's normalised record)."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000).astimezone(UTC)


def iso_time(value: Any, what: str, *, naive_is_utc: bool = True) -> datetime:
    """An ISO 8601 time; a time without an offset is UTC only where the vendor says so."""
    if not isinstance(value, str) or not value.strip():
        raise AdapterError(422, f"{what} is missing or is not an ISO 8601 time")
    raw = value.strip()
    fraction = re.match(r"^(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)$", raw)
    if fraction:  # more than six digits of a second: keep the microseconds
        raw = f"{fraction.group(1)}.{fraction.group(2)[:6]:0<6}{fraction.group(3)}"
    try:
        parsed = datetime.fromisoformat(raw.replace(" ", "T", 1) if "T" not in raw else raw)
    except ValueError as exc:
        raise AdapterError(422, f"{what} {value[:40]!r} is not an ISO 8601 time") from exc
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise AdapterError(422, f"{what} has no UTC offset")
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return truncate_ms(parsed)
    except OverflowError as exc:
        raise AdapterError(422, f"{what} is not a readable time") from exc


def base64_picture(value: Any, what: str) -> bytes | None:
    """A base64 picture (a ``data:`` URL prefix allowed); None when empty; 422 when not base64."""
    if not present(value):
        return None
    if not isinstance(value, str):
        raise AdapterError(422, f"{what} must be a base64 string")
    raw = value.strip()
    if raw.startswith("data:"):
        raw = raw.partition(",")[2]
    raw = "".join(raw.split())
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AdapterError(422, f"{what} is not base64") from exc


# --- what is dropped ------------------------------------------------------------------------


def field_name(path: str) -> str:
    """A counter's name for a dropped field: the vendor's own name, if it is a plain one."""
    return path if FIELD_NAME.fullmatch(path) else UNNAMED_FIELD


def count_dropped(
    discarded: Counter[str],
    document: Mapping[str, Any],
    *,
    used: Iterable[str] = (),
    expand: Iterable[str] = (),
    prefix: str = "",
) -> None:
    """Count every field of `document` that carries something and is not `used`.

    The fields named in `expand` are objects whose own fields are counted one by one
    (``vehicle.color``), so the administrator sees which attribute a camera sends.
    """
    kept = set(used)
    nested = set(expand)
    for key, value in document.items():
        if key in kept or not present(value):
            continue
        if key in nested and isinstance(value, dict):
            count_dropped(discarded, value, prefix=f"{prefix}{key}.")
        else:
            discarded[field_name(f"{prefix}{key}")] += 1
