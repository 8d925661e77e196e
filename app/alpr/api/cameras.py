"""`POST /api/v1/cameras/<format>`: the ALPR cameras a department already owns push here.

The format is one of :data:`app.alpr.adapters.ADAPTERS` (openalpr, platerecognizer, axis,
genetec, verkada) and must be the one the device was registered with (``devices create
--format``); another is refused 403. The device is found by, in order:

- ``Authorization: Bearer <device token>`` (every format), or ``Authorization: Token <device
  token>`` (Plate Recognizer's ``webhook_header``);
- ``?token=<device token>`` in the URL, for agents that cannot send a header (OpenALPR's
  ``upload_address``, Genetec); in the query, not the path, so the application's own logs,
  which name the path, never hold it;
- the format's own scheme: Rekor Scout's ``custom_data`` (``{"API_KEY": "<device token>"}``),
  or Verkada's ``Verkada-Signature`` (HMAC-SHA256 with the device's shared secret, at most
  :data:`app.alpr.adapters.signatures.FRESHNESS_SECONDS` old).

No credential or an unknown one is 401, a revoked device 403. A payload stored or counted
answers 200 with ``stored``, ``duplicate``, ``discarded`` (and ``received``, ``destroyed_acp``,
``hits``, ``discard_reasons``); a refused one answers the API's JSON error shape with nothing
stored: 400 unparseable, 413 too large, 415 wrong content type, 422 unreadable time or position
or picture, 409 a fixed camera without a deployment. The body is never logged or stored.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from sqlalchemy import select

from app.alpr.adapters import ADAPTERS
from app.alpr.adapters.base import Adapter, AdapterError, CameraOptions, Incoming
from app.alpr.adapters.receive import receive_camera_reads
from app.alpr.adapters.signatures import (
    SignatureRefused,
    secret_for_digest,
    signature_matches,
    signature_parts,
)
from app.alpr.api import api_bp
from app.alpr.api.auth import device_for_token
from app.alpr.image_reads import take_back_images
from app.alpr.ingest.validation import IngestRefused, Limits
from app.auth.access import bearer_token_only
from app.db import db_session, utcnow
from app.reads.models import Device, DeviceStatus

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _error(status: int, message: str, **extra: Any):
    response = jsonify(error=message, status=status, **extra)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="alpr-devices"'
    return response


def _incoming() -> Incoming:
    """The body as the adapter needs it; each file part is read up to the picture limit.

    A urlencoded body that is a JSON document is JSON: libcurl sends a raw POST under that type
    when the sender sets none, as the OpenALPR daemon does (``uploadPost`` in alprd).
    """
    kind = request.mimetype or ""
    if kind == "application/x-www-form-urlencoded":
        body = request.get_data(cache=True)
        if body.lstrip()[:1] in (b"{", b"["):
            return Incoming(content_type="application/json", body=body)
    if kind not in FORM_TYPES:
        return Incoming(content_type=kind, body=request.get_data(cache=True))
    limit = current_app.config["IMAGE_MAX_BYTES"]
    files = {}
    for name, storage in request.files.items():
        data = storage.stream.read(limit + 1)
        if len(data) > limit:
            raise AdapterError(413, f"the file part {name[:40]!r} is larger than {limit} bytes")
        files[name] = data
    form = {name: value for name, value in request.form.items()}
    return Incoming(content_type=kind, form=form, files=files)


def _header_token() -> str | None:
    """A token sent as ``Bearer`` or Plate Recognizer's ``Token``, else in ``?token=``."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "token") and token.strip():
        return token.strip()
    query = request.args.get("token", "").strip()
    return query or None


def _signed_device(adapter: Adapter, body: bytes) -> Device | None:
    """The active device of this format whose shared secret signed the body."""
    header = request.headers.get("Verkada-Signature")
    if not header:
        return None
    timestamp, signature = signature_parts(header, utcnow())
    secret_key = current_app.config["SECRET_KEY"]
    candidates = db_session().scalars(
        select(Device).where(Device.camera_format == adapter.name, Device.token_hash.is_not(None))
    )
    for device in candidates:
        secret = secret_for_digest(secret_key, device.token_hash or "")
        if signature_matches(secret, body, timestamp, signature):
            return device
    raise SignatureRefused("the Verkada-Signature does not match any registered camera")


def _authenticate(adapter: Adapter, incoming: Incoming) -> tuple[Device | None, Any, Any]:
    """(device, decoded document or None, refusal response or None)."""
    document = None
    token = _header_token()
    device = None
    if token is None and adapter.signed:
        try:
            device = _signed_device(adapter, incoming.body)
        except SignatureRefused as exc:
            return None, None, _error(401, str(exc))
    if token is None and device is None and adapter.vendor_token is not None:
        try:
            document = adapter.decode(incoming)
        except AdapterError:
            document = None
        token = adapter.vendor_token(document) if document is not None else None
    if device is None:
        if token is None:
            return None, None, _error(401, _missing_credentials(adapter))
        device = device_for_token(db_session(), token)
        if device is None:
            return None, None, _error(401, "unknown device token")
    if device.status != DeviceStatus.ACTIVE.value:
        return None, None, _error(403, "this device's token has been revoked")
    if device.camera_format != adapter.name:
        registered = device.camera_format or "the JSON API (/api/v1/reads)"
        return (
            None,
            None,
            _error(
                403,
                f"device {device.serial} is registered to post {registered}, not {adapter.name}",
            ),
        )
    return device, document, None


def _missing_credentials(adapter: Adapter) -> str:
    schemes = ["Authorization: Bearer <device token>", "?token=<device token>"]
    if adapter.name == "platerecognizer":
        schemes.insert(1, "Authorization: Token <device token>")
    if adapter.name == "openalpr":
        schemes.append('custom_data {"API_KEY": "<device token>"}')
    if adapter.signed:
        schemes.append("a Verkada-Signature made with the device's shared secret")
    return "missing device credentials: send " + ", or ".join(schemes)


@api_bp.post("/cameras/<camera_format>")
@bearer_token_only
def post_camera_payload(camera_format: str):
    """One vendor payload from a registered camera; see the module docstring for the contract."""
    adapter = ADAPTERS.get(camera_format)
    if adapter is None:  # failing closed: without a credential nothing is said about formats
        if _header_token() is None:
            return _error(401, "missing device credentials: send Authorization: Bearer <token>")
        return _error(404, f"unknown camera format: use one of {', '.join(sorted(ADAPTERS))}")
    try:
        incoming = _incoming()
    except AdapterError as exc:
        return _error(exc.status, exc.message)
    device, document, refusal = _authenticate(adapter, incoming)
    if refusal is not None:
        return refusal
    config = current_app.config
    session = db_session()
    written: list[str] = []
    try:
        if document is None:
            document = adapter.decode(incoming)
        extracted = adapter.extract(document, CameraOptions(date_order=device.date_order or "MDY"))
        if extracted.ping:
            return jsonify(
                device=device.serial,
                format=adapter.name,
                ping=True,
                stored=0,
                duplicate=0,
                discarded=0,
            )
        outcome = receive_camera_reads(
            session,
            device,
            extracted,
            now=utcnow(),
            limits=Limits.from_config(config),
            gap_minutes=config["ACTIVE_USE_GAP_MINUTES"],
            image_max_bytes=config["IMAGE_MAX_BYTES"],
            written=written,
        )
        session.commit()
    except BaseException as exc:
        session.rollback()
        take_back_images(session, written)
        if isinstance(exc, AdapterError | IngestRefused):
            extra = {"errors": exc.errors, "stored": 0} if isinstance(exc, IngestRefused) else {}
            return _error(exc.status, exc.message, **extra)
        raise
    return jsonify(device=device.serial, format=adapter.name, **outcome.as_json())
