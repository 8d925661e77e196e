"""Bearer tokens of devices and sharing agencies: made once, shown once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "alpr_"  # noqa: S105 (a prefix that makes leaked tokens easy to find, not a secret)


def new_token() -> tuple[str, str, str]:
    """A fresh token, its digest (what is stored) and a short hint for staff pages."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token), token[: len(TOKEN_PREFIX) + 4]


def token_digest(token: str) -> str:
    """Tokens are 256-bit random, so a plain SHA-256 is enough and allows lookup by digest."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
