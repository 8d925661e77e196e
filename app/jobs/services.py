"""Track background jobs: a row per run, committed before enqueueing, updated as it goes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import or_, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.db import utcnow
from app.jobs.models import JobRun, JobStatus


def _arguments_json(arguments: dict[str, Any]) -> str:
    return json.dumps(arguments, default=str, sort_keys=True)


def create_run(
    session: Session, name: str, requested_by_id: int | None = None, **arguments: Any
) -> JobRun:
    """Insert the tracking row; the caller commits before enqueueing with its id."""
    run = JobRun(
        name=name,
        requested_by_id=requested_by_id,
        arguments_json=_arguments_json(arguments),
    )
    session.add(run)
    session.flush()
    return run


def mark_running(session: Session, run: JobRun) -> None:
    """The worker picked it up."""
    run.status = JobStatus.RUNNING.value
    run.started_at = utcnow()


def report_progress(run: JobRun, done: int, total: int) -> None:
    """`done` items of `total` are done; the job commits it, the page's bar polls it.

    The percentage stops at 99 until the run is marked done, so a page never shows 100 % for
    a run whose result is not committed yet.
    """
    run.done = done
    run.total = total
    run.progress = min(99, done * 100 // max(total, 1))


def latest_run(session: Session, name: str, **arguments: Any) -> JobRun | None:
    """The newest run of job `name` asked with exactly `arguments`, for the page that started it.

    The arguments compare as :func:`create_run` keeps them (canonical JSON).
    """
    return session.scalars(
        select(JobRun)
        .where(JobRun.name == name, JobRun.arguments_json == _arguments_json(arguments))
        .order_by(JobRun.id.desc())
        .limit(1)
    ).first()


def mark_done(session: Session, run: JobRun, result: dict[str, Any]) -> None:
    """Finished; the result is kept as JSON for the pages that poll it."""
    run.status = JobStatus.DONE.value
    run.progress = 100
    if run.total is not None:
        run.done = run.total
    run.finished_at = utcnow()
    run.result_json = json.dumps(result, default=str, sort_keys=True)


def failure_summary(error: BaseException) -> str:
    """What a failed run's row and audit entry may say about its error.

    A database error is named by kind only: its text can quote the data the statement carried
    (an ACP participant's plates, a plate OCR just read), in a DETAIL line or a message such as
    ``invalid input syntax: "HIDE42"``. The worker log keeps the full error.
    """
    if isinstance(error, SQLAlchemyError):
        cause = getattr(error, "orig", None)
        kind = type(cause).__name__ if cause is not None else "database"
        return f"{type(error).__name__} ({kind}); the worker log has the details"
    return f"{type(error).__name__}: {error}"[:2000]


def mark_failed(session: Session, run: JobRun, error: BaseException) -> None:
    """Record the failure (no traceback and no database error text leaves the worker log)."""
    run.status = JobStatus.FAILED.value
    run.finished_at = utcnow()
    run.error = failure_summary(error)
    record(session, f"job:{run.name}", AuditAction.JOB_FAILED, run, {"error": run.error})


def is_service_failure(error: BaseException) -> bool:
    """Whether a service the job needs failed under it, not the job: the same work may succeed.

    An image store that does not answer (a ConnectionError), a database connection lost or
    refused, PostgreSQL's operational errors (restarting, cancelled, a lock not granted).
    SQLite's OperationalError is not one of them: it also means a missing table or a bad
    statement, which no later run mends.
    """
    if isinstance(error, ConnectionError):
        return True
    return isinstance(error, DBAPIError) and (
        error.connection_invalidated or isinstance(error.orig, psycopg.OperationalError)
    )


def mark_interrupted(session: Session, run: JobRun, error: BaseException) -> None:
    """Put the run back to queued: the recovery sweep runs it again once the service is back.

    Audited as a failure of this attempt; the sweep counts it among the run's attempts and
    gives up after the last, so a service gone for good still ends the run as failed.
    """
    run.status = JobStatus.QUEUED.value
    run.queued_at = utcnow()
    run.error = failure_summary(error)
    record(
        session,
        f"job:{run.name}",
        AuditAction.JOB_FAILED,
        run,
        {"error": run.error, "runs_again": True},
    )


def run_tracked(
    session_factory: Callable[[], Session],
    name: str,
    run_id: int | None,
    work: Callable[[Session, JobRun], dict[str, Any]],
) -> dict[str, Any]:
    """Run `work` with its JobRun row: running, then done (same commit as the work) or failed.

    A service that failed under it (:func:`is_service_failure`) leaves the run queued for the sweep
    instead: a read whose picture the store could not give must not stay pending forever.
    """
    with session_factory() as session:
        run = session.get(JobRun, run_id) if run_id is not None else None
        if run is None:
            run = create_run(session, name)
        mark_running(session, run)
        session.commit()
        run_id = run.id
    with session_factory() as session:
        run = session.get(JobRun, run_id)
        try:
            result = work(session, run)
            mark_done(session, run, result)
            session.commit()
            return result
        except Exception as exc:
            session.rollback()
            mark = mark_interrupted if is_service_failure(exc) else mark_failed
            mark(session, session.get(JobRun, run_id), exc)
            session.commit()
            raise


#: A run put back on the queue this many times and still unfinished is given up as failed.
MAX_RECOVERY_ATTEMPTS = 3


def stale_runs(
    session: Session, now: datetime, *, queued: timedelta, running: timedelta
) -> list[JobRun]:
    """Runs queued or running for longer than a job of theirs should take, oldest first.

    A run is stale when its row says queued but the job never reached (or fell out of) the
    queue, or running but its worker died: either way nothing will ever finish it unaided.
    Rows are locked so that two sweeps never recover the same run twice.
    """
    return list(
        session.scalars(
            select(JobRun)
            .where(
                or_(
                    (JobRun.status == JobStatus.QUEUED.value) & (JobRun.queued_at < now - queued),
                    (JobRun.status == JobStatus.RUNNING.value)
                    & (JobRun.started_at < now - running),
                )
            )
            .order_by(JobRun.id)
            .with_for_update(skip_locked=True)
        )
    )


def requeue_or_give_up(session: Session, run: JobRun, actor: str) -> bool:
    """Put a stale run back on the queue (True) or, past the last attempt, fail it (False).

    Audited either way. Jobs are written to be run again safely (they re-check what is left
    to do), so a retry after a half-done run finishes it rather than doing it twice.
    """
    previous = run.status
    if run.attempts >= MAX_RECOVERY_ATTEMPTS:
        mark_failed(
            session,
            run,
            RuntimeError(f"gave up after {run.attempts} recoveries (last seen {previous})"),
        )
        return False
    run.attempts += 1
    run.status = JobStatus.QUEUED.value
    run.queued_at = utcnow()
    run.started_at = None
    record(
        session,
        actor,
        AuditAction.JOB_RECOVERED,
        run,
        {"name": run.name, "attempt": run.attempts, "was": previous},
    )
    return True
