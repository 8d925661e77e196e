"""Security headers on every response; the CSP needs no inline script or style."""

from __future__ import annotations

from flask import Response, request

from app.core.maps import tile_policy

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def apply_security_headers(response: Response) -> Response:
    """after_request: CSP, framing, sniffing, referrer, and no caching of ALPR data."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", tile_policy(CONTENT_SECURITY_POLICY))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if not request.path.startswith("/static/"):
        # ALPR data must not linger in shared caches or the browser's back-button cache.
        headers["Cache-Control"] = "no-store"
    return response
