"""Give job functions an app context whether they run in a worker or in-process."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, has_app_context

F = TypeVar("F", bound=Callable[..., Any])

_worker_app: Flask | None = None


def worker_app() -> Flask:
    """One app per worker process, built from the same environment as the web app."""
    global _worker_app
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app()
    return _worker_app


def with_app_context(func: F) -> F:
    """Run inside the caller's app context, or the worker's own when there is none."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return func(*args, **kwargs)
        with worker_app().app_context():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
