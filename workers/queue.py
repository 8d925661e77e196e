"""The job queues: RQ on Redis when REDIS_URL is set, otherwise the same functions in-process.

Jobs take ids, never objects. Callers commit the JobRun row before calling :func:`enqueue`, so
a fast worker always finds it (the microblog pitfall).

Each kind of job has its own queue, so a backlog of one never delays another: a night of OCR
after an outage must not hold up the purge the law times, nor a large release package the
OCR of today's reads. Each queue gets its own workers (deploy/compose.yaml, alpr-worker@.service).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

#: Seconds a job may run before RQ stops it (its worker's death penalty, or the horse killed).
JOB_TIMEOUT_SECONDS = 3600
#: Shorter limits for jobs that never need the hour. A job's limit is also its row's deadline
#: in the recovery sweep (workers.recovery): OCR reads one read's few pictures, so a worker
#: that died mid-OCR leaves its read waiting minutes, not an hour.
JOB_TIMEOUTS = {"workers.ocr.ocr_read": 600}

#: The queues, each served by its own workers.
QUEUES = ("ocr", "retention", "exports", "default")
#: Which queue runs which job function (by module and name); every other job goes to default.
JOB_QUEUES = {
    "workers.ocr.ocr_read": "ocr",
    "workers.retention.purge_expired_reads": "retention",
    "workers.retention.destroy_acp_existing_data": "retention",
    "workers.releases.build_release_package": "exports",
    "workers.releases.expire_release_packages": "exports",
}


def _job_key(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def queue_name(func: Callable[..., Any]) -> str:
    """The queue a job function runs on (rq cron and the web process agree through this)."""
    return JOB_QUEUES.get(_job_key(func), "default")


def job_timeout(func: Callable[..., Any]) -> int:
    """Seconds a job of `func` may run before RQ stops it."""
    return JOB_TIMEOUTS.get(_job_key(func), JOB_TIMEOUT_SECONDS)


def init_app(app: Flask) -> None:
    """Create the Redis connection and queue inside the factory (nothing connects at import)."""
    url = app.config.get("REDIS_URL")
    if not url:
        app.extensions["alpr_queue"] = None
        return
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(url)
    # RQ_QUEUE_PREFIX lets tests share one Redis without sharing queues; production has none.
    prefix = app.config.get("RQ_QUEUE_PREFIX", "")
    app.extensions["alpr_redis"] = connection
    app.extensions["alpr_queue"] = {
        name: Queue(prefix + name, connection=connection) for name in QUEUES
    }


def get_queue(func: Callable[..., Any]) -> Any:
    """The RQ queue that runs `func`, or None when jobs run in-process."""
    queues = current_app.extensions.get("alpr_queue")
    return None if queues is None else queues[queue_name(func)]


def enqueue(func: Callable[..., Any], *args: Any, **kwargs: Any) -> str | None:
    """Run `func(*args)` as a job: on RQ when configured, else now, in this process.

    In-process jobs run synchronously in a fresh app context so they behave exactly as they
    would in a worker (own session, own commit), just without a Redis server.
    """
    queue = get_queue(func)
    if queue is not None:
        job = queue.enqueue(func, args=args, kwargs=kwargs, job_timeout=job_timeout(func))
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
    queue = get_queue(func)
    if queue is None:
        return enqueue(func, *args, run_id)
    from redis.exceptions import RedisError

    try:
        job = queue.enqueue(
            func,
            args=(*args, run_id),
            job_id=run_job_id(run_id, attempt),
            job_timeout=job_timeout(func),
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
    connection = current_app.extensions.get("alpr_redis")
    if connection is None:
        return None
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(run_job_id(run_id, attempt), connection=connection)
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
