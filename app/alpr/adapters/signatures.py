"""Verkada's signed webhooks: the per-device shared secret and the check of its signature.

Verkada signs each POST with ``Verkada-Signature: <unix seconds>|<hex HMAC-SHA256(secret,
body + "|" + seconds)>`` (apidocs.verkada.com, "Securing webhooks"), with a shared secret the
administrator types into Command. The secret must be known here to check the signature, yet no
device secret is stored in clear: it is derived from the installation's ``SECRET_KEY`` and the
digest of the device's token, so it is printed once with the token and changes when the token
is rotated.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from app.core.tokens import token_digest

#: How old (or how far ahead) a signature's timestamp may be: older ones are replays.
FRESHNESS_SECONDS = 300
_CONTEXT = b"alpr-records/verkada-webhook-secret/v1:"


def secret_for_digest(secret_key: str, token_hash: str) -> str:
    """The shared secret of the device whose token has this digest."""
    key = secret_key.encode("utf-8")
    return hmac.new(key, _CONTEXT + token_hash.encode("ascii"), hashlib.sha256).hexdigest()


def signing_secret(secret_key: str, token: str) -> str:
    """The shared secret to type into Verkada Command for the device with this token."""
    return secret_for_digest(secret_key, token_digest(token))


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value Verkada sends for `body` at `timestamp` (tests and tools use it)."""
    message = body + b"|" + str(timestamp).encode("ascii")
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{timestamp}|{digest}"


class SignatureRefused(ValueError):
    """The signature header is missing, malformed, stale or does not match."""


def signature_parts(header: str, now: datetime) -> tuple[int, str]:
    """The timestamp and hex signature of a header that is well formed and fresh."""
    stamp, sep, signature = header.strip().partition("|")
    if not sep or not stamp.isdigit() or len(stamp) > 12 or not signature:
        raise SignatureRefused("Verkada-Signature must be '<unix seconds>|<hex HMAC-SHA256>'")
    timestamp = int(stamp)
    if abs(now.timestamp() - timestamp) > FRESHNESS_SECONDS:
        raise SignatureRefused(
            f"the Verkada-Signature timestamp is more than {FRESHNESS_SECONDS} seconds away "
            "from now: a stale or replayed request"
        )
    return timestamp, signature.strip().lower()


def signature_matches(secret: str, body: bytes, timestamp: int, signature: str) -> bool:
    """Constant-time comparison of the expected signature with the one sent."""
    expected = sign(secret, body, timestamp).partition("|")[2]
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace"))
