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


def run_job_id(run_id: int, attempt: int) -> str:
    """The RQ id of one attempt of a tracked run: the sweep finds the job by its row."""
    return f"alpr-run-{run_id}-{attempt}"


def enqueue_run(func: Callable[..., Any], run_id: int, attempt: int, *args: Any) -> str | None:
    """Run `func(*args, run_id)` for a committed JobRun row: on RQ when configured, else now.

    When Redis cannot be reached the row stays queued and the request that asked for the job
    still succeeds: the recovery sweep (:mod:`workers.recovery`) enqueues it once Redis is back.
    """
    queue = get_queue()
    if queue is None:
        return enqueue(func, *args, run_id)
    from redis.exceptions import RedisError

    try:
        job = queue.enqueue(
            func,
            args=(*args, run_id),
            job_id=run_job_id(run_id, attempt),
            job_timeout=JOB_TIMEOUT_SECONDS,
        )
    except RedisError:
        current_app.logger.warning(
            "job run %s not queued (Redis unreachable); the recovery sweep will queue it", run_id
        )
        return None
    return job.id


#: RQ states in which a job will still run or is running: its row is not stale.
LIVE_JOB_STATES = frozenset({"queued", "started", "deferred", "scheduled"})


def job_is_live(run_id: int, attempt: int) -> bool | None:
    """Whether RQ will still run this attempt; None when RQ does not know it (or no Redis)."""
    queue = get_queue()
    if queue is None:
        return None
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(run_job_id(run_id, attempt), connection=queue.connection)
    except NoSuchJobError:
        return None
    return job.get_status(refresh=True) in LIVE_JOB_STATES


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
