"""Error pages that leak nothing: JSON under /api/, HTML elsewhere, never a stack trace."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from app.reads.image_store import ImageStoreUnavailable

TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    422: "Unprocessable",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Unavailable",
}


#: Seconds a client is asked to wait before retrying while the database or image store is down.
RETRY_AFTER_SECONDS = 5


def _respond(code: int, message: str):
    if request.path.startswith("/api/"):
        return jsonify(error=message, status=code), code
    return (
        render_template(
            "errors/error.html", code=code, title=TITLES.get(code, "Error"), message=message
        ),
        code,
    )


def register_error_handlers(app: Flask) -> None:
    """CSRF failures, HTTP errors and unexpected exceptions, answered without internals."""

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return _respond(
            400, f"The form could not be accepted: {error.description} Reload and try again."
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        code = error.code or 500
        if code == 429:
            message = "Too many attempts. Wait a minute and try again."
        elif code >= 500:
            message = "The request could not be completed."
        else:
            message = error.description or TITLES.get(code, "Error")
        response = current_app.make_response(_respond(code, message))
        # A 405 names the methods the route takes (RFC 9110), as werkzeug's own answer does.
        allowed = getattr(error, "valid_methods", None)
        if code == 405 and allowed:
            response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    def _unavailable(error: Exception, what: str):
        """Answer 503 with Retry-After: the request's transaction was rolled back whole.

        The session is rolled back at the end of every request, so a camera's batch or
        upload is stored whole or not at all and its resend is safe.
        """
        current_app.logger.warning(  # the type only: a statement's text holds its parameters
            "%s unavailable on %s %s: %s", what, request.method, request.path, type(error).__name__
        )
        response = current_app.make_response(
            _respond(503, f"The {what} is unavailable; nothing was stored. Try again shortly.")
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    def _database_unavailable(error: Exception):
        """The database is restarting, unreachable or busy."""
        return _unavailable(error, "records database")

    @app.errorhandler(ImageStoreUnavailable)
    def _image_store_unavailable(error: ImageStoreUnavailable):
        """The image store (an S3 bucket) does not answer.

        An upload's objects were taken back or tombstoned for the purge
        (:func:`app.alpr.image_reads.take_back_images`).
        """
        return _unavailable(error, "image store")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, "The request could not be completed.")
