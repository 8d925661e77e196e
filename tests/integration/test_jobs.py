"""Jobs: a real RQ worker on real Redis runs the scheduled chain verification end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.audit.services import record
from app.jobs.models import JobRun, JobStatus
from app.jobs.services import create_run, run_tracked
from workers import tasks
from workers.queue import enqueue

ROOT = Path(__file__).resolve().parents[2]


def test_verification_job_runs_on_a_real_rq_worker(make_app, session, redis_url, instance_dir):
    prefix = f"alpr-test-{uuid.uuid4().hex[:8]}-"
    app = make_app(REDIS_URL=redis_url, RQ_QUEUE_PREFIX=prefix)
    record(session, "test", AuditAction.USER_CREATED, None, {"n": 1})
    session.commit()
    with app.app_context():
        from app.db import db_session

        db = db_session()
        run = create_run(db, "verify_audit_chain")
        db.commit()  # the tracking row exists before the job is enqueued
        job_id = enqueue(tasks.verify_audit_chain, run.id)
    assert job_id is not None
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": redis_url,
        "ALPR_INSTANCE_PATH": str(instance_dir),
    }
    worker = subprocess.run(
        [
            sys.executable,
            "-m",
            "rq.cli",
            "worker",
            "--burst",
            "--url",
            redis_url,
            f"{prefix}default",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    session.expire_all()
    done = session.get(JobRun, run.id)
    assert done.status == JobStatus.DONE.value, done.error
    assert json.loads(done.result_json) == {"ok": True, "entries": 1, "first_bad_id": None}
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.AUDIT_VERIFIED.value)
    ).one()
    assert entry.actor_label == "system:verify-job"


def test_without_redis_the_same_job_runs_in_process(app, session):
    with app.app_context():
        from app.db import db_session

        db = db_session()
        run = create_run(db, "verify_audit_chain")
        db.commit()
        assert enqueue(tasks.verify_audit_chain, run.id) is None
    session.expire_all()
    assert session.get(JobRun, run.id).status == JobStatus.DONE.value


def test_cron_config_registers_every_schedule_for_rq_cron(redis_url):
    from redis import Redis
    from rq.cron import CronScheduler

    from workers.queue import JOB_TIMEOUT_SECONDS
    from workers.schedules import SCHEDULES

    scheduler = CronScheduler(connection=Redis.from_url(redis_url))
    scheduler.load_config_from_file("workers/cron_config.py")
    registered = {job.name for job in scheduler.get_jobs()}
    assert registered == {s.name for s in SCHEDULES}
    assert all(job.cron for job in scheduler.get_jobs())
    limits = {job.job_options["job_timeout"] for job in scheduler.get_jobs()}
    assert limits == {JOB_TIMEOUT_SECONDS}, "its job's own time limit, not RQ's default 180 s"


def test_in_process_scheduler_computes_next_runs():
    from datetime import UTC, datetime

    from workers.inprocess import next_runs

    now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    runs = next_runs(now)
    assert runs and all(when > now for when, _ in runs)
    assert runs == sorted(runs, key=lambda pair: pair[0])


def test_a_failed_jobs_records_never_quote_the_data_its_statement_carried(app, session):
    """Neither the run's row, nor its audit entry, nor the error itself names the plate."""
    factory = app.extensions["alpr_sessionmaker"]

    def work(db, _run):
        db.execute(
            text("SELECT plate FROM no_such_table WHERE plate = :plate"), {"plate": "HIDE42"}
        )
        return {}

    with pytest.raises(DBAPIError) as failure:
        run_tracked(factory, "destroy_acp_existing_data", None, work)
    assert "HIDE42" not in str(failure.value)

    session.expire_all()
    run = session.scalars(select(JobRun)).one()
    assert run.status == JobStatus.FAILED.value
    assert run.error.startswith("ProgrammingError") or run.error.startswith("OperationalError")
    assert "HIDE42" not in run.error and "no_such_table" not in run.error
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.JOB_FAILED.value)
    ).one()
    assert json.loads(entry.detail.details_json) == {"error": run.error}
