"""Find tracked jobs that nothing will finish and put them back on the queue.

A row stays `queued` when Redis was down as the job was asked for, `running` when its worker was
killed: RQ files a forking worker's killed job as abandoned and never retries it, and a killed
SimpleWorker's job stays "started" in RQ until its registry entry expires, after the job's
timeout. Either way the work would never happen: a read would stay ``pending_ocr`` forever,
never matched against the hotlists nor screened for ACP plates. The sweep runs on a schedule
and from `flask --app wsgi jobs recover`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from app.db import utcnow
from app.jobs.models import JobRun, JobStatus
from app.jobs.services import requeue_or_give_up, run_tracked, stale_runs
from workers import bca, ocr, releases, retention, tasks
from workers.context import with_app_context
from workers.queue import enqueue_run, job_is_live, job_timeout

SWEEP_NAME = "recover_stale_jobs"
SWEEP_ACTOR = "system:job-recovery"
#: A queued row older than this whose job RQ does not hold never reached the queue.
QUEUED_GRACE = timedelta(minutes=2)
#: A running row is past its deadline this long after its job's timeout (workers.queue).
RUNNING_GRACE = timedelta(minutes=5)


def _argument(run: JobRun, name: str) -> Any:
    return json.loads(run.arguments_json or "{}")[name]


#: How to run each kind of tracked job again from its row: the function and its arguments
#: (the run's id is added last). A test checks that every schedule but the sweep is here.
RECOVERABLE: dict[str, Callable[[JobRun], tuple[Callable[..., Any], tuple[Any, ...]]]] = {
    "ocr_read": lambda run: (ocr.ocr_read, (_argument(run, "read_id"),)),
    "destroy_acp_existing_data": lambda run: (
        retention.destroy_acp_existing_data,
        (_argument(run, "acp_request_id"), run.requested_by_id),
    ),
    "purge_expired_reads": lambda run: (retention.purge_expired_reads, ()),
    "verify_audit_chain": lambda run: (tasks.verify_audit_chain, ()),
    "sign_audit_checkpoint": lambda run: (tasks.sign_audit_checkpoint, ()),
    "sequence_audit_entries": lambda run: (tasks.sequence_audit_entries, ()),
    "check_compliance_counters": lambda run: (tasks.check_compliance_counters, ()),
    "flag_overdue_bca_notices": lambda run: (bca.flag_overdue_bca_notices, ()),
    "build_release_package": lambda run: (
        releases.build_release_package,
        (_argument(run, "package_id"),),
    ),
    "expire_release_packages": lambda run: (releases.expire_release_packages, ()),
    "send_outbox_mail": lambda run: (releases.send_outbox_mail, ()),
}


def _past_deadline(run: JobRun, now: datetime) -> bool:
    """Whether a running row has run longer than its job may, and a margin.

    RQ stops a job at its timeout (a SimpleWorker's death penalty, a forking worker's horse
    killed), so past that no live worker is on it, whatever RQ still says of the job.
    """
    func, _ = RECOVERABLE[run.name](run)
    deadline = timedelta(seconds=job_timeout(func)) + RUNNING_GRACE
    return run.started_at is None or run.started_at <= now - deadline


def _may_still_finish(run: JobRun, now: datetime) -> bool:
    """Whether something may yet finish this run, so recovering it would run it twice.

    A running row past its deadline is recovered whatever RQ says: a SimpleWorker killed
    mid-job (kill -9, the machine lost) leaves its job "started" in RQ for as long as the
    job's timeout and a minute, and RQ files it as abandoned only when a worker next cleans
    that registry. Within the deadline RQ is asked: a job queued through
    :func:`workers.queue.enqueue_run` is known by its id and RQ says whether it will still run.
    A scheduled job started by `rq cron` has an id RQ chose, a job that never reached Redis
    has none, and in-process jobs have none: for a running one of those only the deadline says
    its worker is gone. A job run twice is safe: each re-checks what is left to do.
    """
    running = run.status == JobStatus.RUNNING.value
    if running and _past_deadline(run, now):
        return False
    live = job_is_live(run.id, run.attempts)
    return running if live is None else live


def _sessions() -> Session:
    return current_app.extensions["alpr_sessionmaker"]()


def recover(session_factory: Callable[[], Session]) -> dict[str, Any]:
    """Requeue every stale run that nothing will finish; fail those out of attempts."""
    now = utcnow()
    requeued: list[JobRun] = []
    given_up: list[int] = []
    waiting = 0
    with session_factory() as session:
        for run in stale_runs(session, now, queued=QUEUED_GRACE, running=QUEUED_GRACE):
            if run.name not in RECOVERABLE:
                continue
            if _may_still_finish(run, now):
                waiting += 1
            elif requeue_or_give_up(session, run, SWEEP_ACTOR):
                requeued.append(run)
            else:
                given_up.append(run.id)
        session.commit()
    for run in requeued:
        func, args = RECOVERABLE[run.name](run)
        enqueue_run(func, run.id, run.attempts, *args)
    return {"requeued": [run.id for run in requeued], "given_up": given_up, "waiting": waiting}


@with_app_context
def recover_stale_jobs(run_id: int | None = None) -> dict[str, Any]:
    """Scheduled: the sweep, tracked like every job (it is never recovered itself)."""
    return run_tracked(_sessions, SWEEP_NAME, run_id, lambda session, run: recover(_sessions))
