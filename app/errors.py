"""Error pages that leak nothing: JSON under /api/, HTML elsewhere, never a stack trace."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

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
        return _respond(code, message)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, "The request could not be completed.")
