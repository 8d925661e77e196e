"""Device API tokens: generated once, stored as SHA-256, checked on every API call."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alpr.models import Device, DeviceStatus
from app.auth.access import device_only
from app.db import db_session

F = TypeVar("F", bound=Callable[..., Any])

TOKEN_PREFIX = "alpr_"  # noqa: S105 (a prefix that makes leaked tokens easy to find, not a secret)


def new_token() -> tuple[str, str, str]:
    """A fresh token, its digest (what is stored) and a short hint for staff pages."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token), token[: len(TOKEN_PREFIX) + 4]


def token_digest(token: str) -> str:
    """Tokens are 256-bit random, so a plain SHA-256 is enough and allows lookup by digest."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def device_for_token(session: Session, token: str) -> Device | None:
    """The device whose token this is, whatever its status (the caller checks it)."""
    return session.scalars(select(Device).where(Device.token_hash == token_digest(token))).first()


def _unauthorised(message: str, status: int = 401):
    response = jsonify(error=message, status=status)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="alpr-devices"'
    return response


def device_required(view: F) -> F:
    """Accept only `Authorization: Bearer <token>` of an active device; sets `g.device`."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorised("missing device token: send Authorization: Bearer <token>")
        device = device_for_token(db_session(), token.strip())
        if device is None:
            return _unauthorised("unknown device token")
        if device.status != DeviceStatus.ACTIVE.value:
            return _unauthorised("this device's token has been revoked", 403)
        g.device = device
        return view(*args, **kwargs)

    return device_only(wrapper)  # type: ignore[return-value]
