"""The job queue: RQ on Redis when REDIS_URL is set, otherwise the same functions in-process.

Jobs take ids, never objects. Callers commit the JobRun row before calling :func:`enqueue`, so
a fast worker always finds it (the microblog pitfall).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

QUEUE_NAME = "alpr"
JOB_TIMEOUT_SECONDS = 3600


def init_app(app: Flask) -> None:
    """Create the Redis connection and queue inside the factory (nothing connects at import)."""
    url = app.config.get("REDIS_URL")
    if not url:
        app.extensions["alpr_queue"] = None
        return
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(url)
    app.extensions["alpr_redis"] = connection
    app.extensions["alpr_queue"] = Queue(
        app.config.get("RQ_QUEUE_NAME", QUEUE_NAME), connection=connection
    )


def get_queue() -> Any:
    """The RQ queue, or None when jobs run in-process."""
    return current_app.extensions.get("alpr_queue")


def enqueue(func: Callable[..., Any], *args: Any, **kwargs: Any) -> str | None:
    """Run `func(*args)` as a job: on RQ when configured, else now, in this process.

    In-process jobs run synchronously in a fresh app context so they behave exactly as they
    would in a worker (own session, own commit), just without a Redis server.
    """
    queue = get_queue()
    if queue is not None:
        job = queue.enqueue(func, args=args, kwargs=kwargs, job_timeout=JOB_TIMEOUT_SECONDS)
        return job.id
    app = current_app._get_current_object()
    with app.app_context():
        func(*args, **kwargs)
    return None


def queue_ping() -> str:
    """'ok' when Redis answers, 'in-process' without Redis, 'unreachable' otherwise."""
    if current_app.extensions.get("alpr_queue") is None:
        return "in-process"
    try:
        current_app.extensions["alpr_redis"].ping()
    except Exception:  # any connection failure means not ready
        current_app.logger.exception("readiness: redis unreachable")
        return "unreachable"
    return "ok"
