"""API bearer tokens of devices and sharing agencies: made once, stored as SHA-256, checked."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.access import bearer_token_only
from app.core.tokens import token_digest
from app.db import db_session
from app.reads.models import Device, DeviceStatus

F = TypeVar("F", bound=Callable[..., Any])


def device_for_token(session: Session, token: str) -> Device | None:
    """The device whose token this is, whatever its status (the caller checks it)."""
    return session.scalars(select(Device).where(Device.token_hash == token_digest(token))).first()


def _unauthorised(message: str, status: int = 401, realm: str = "alpr-devices"):
    response = jsonify(error=message, status=status)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer realm="{realm}"'
    return response


def bearer_required(
    *,
    kind: str,
    lookup: Callable[[Session, str], Any],
    revoked: Callable[[Any], bool],
    attribute: str,
    realm: str,
) -> Callable[[F], F]:
    """A decorator accepting only `Authorization: Bearer <token>` of a `kind` that `lookup` finds.

    No or an unknown token is 401, a token `revoked` says is refused 403 (so the caller can tell
    why); otherwise the holder is set as ``g.<attribute>``. The view is marked
    :func:`app.auth.access.bearer_token_only`: reached with a bearer token, not a login.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return _unauthorised(
                    f"missing {kind} token: send Authorization: Bearer <token>", realm=realm
                )
            holder = lookup(db_session(), token.strip())
            if holder is None:
                return _unauthorised(f"unknown {kind} token", realm=realm)
            if revoked(holder):
                return _unauthorised(f"this {kind}'s token has been revoked", 403)
            setattr(g, attribute, holder)
            return view(*args, **kwargs)

        return bearer_token_only(wrapper)  # type: ignore[return-value]

    return decorate


#: Accept only `Authorization: Bearer <token>` of an active device; sets `g.device`.
device_required = bearer_required(
    kind="device",
    lookup=device_for_token,
    revoked=lambda device: device.status != DeviceStatus.ACTIVE.value,
    attribute="device",
    realm="alpr-devices",
)
