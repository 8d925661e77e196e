"""Each kind of job runs on its own queue (ocr, retention, exports, default), on real Redis.

A backlog of OCR after an outage must not delay the purge the law times; the recovery sweep
puts a run back on the queue of its kind, not on a common one.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from rq import SimpleWorker
from sqlalchemy import update

from app.db import utcnow
from app.jobs.models import JobRun, JobStatus
from app.jobs.services import create_run
from workers import bca, ocr, releases, retention, tasks
from workers.queue import QUEUES, enqueue_run, queue_name
from workers.recovery import RECOVERABLE, recover
from workers.schedules import SCHEDULES


@pytest.fixture
def rq_app(make_app, redis_url):
    app = make_app(REDIS_URL=redis_url, RQ_QUEUE_PREFIX=f"test-queues-{uuid.uuid4().hex[:8]}-")
    yield app
    for queue in app.extensions["alpr_queue"].values():
        queue.delete(delete_jobs=True)


def _counts(app) -> dict[str, int]:
    return {name: queue.count for name, queue in app.extensions["alpr_queue"].items()}


def test_each_kind_of_job_has_its_queue():
    assert queue_name(ocr.ocr_read) == "ocr"
    assert queue_name(retention.purge_expired_reads) == "retention"
    assert queue_name(retention.destroy_acp_existing_data) == "retention"
    assert queue_name(releases.build_release_package) == "exports"
    assert queue_name(releases.expire_release_packages) == "exports"
    for other in (
        tasks.verify_audit_chain,
        bca.flag_overdue_bca_notices,
        releases.send_outbox_mail,
    ):
        assert queue_name(other) == "default"
    assert {queue_name(schedule.func) for schedule in SCHEDULES} <= set(QUEUES)


def test_a_purge_lands_on_the_retention_queue_and_its_worker_runs_it(session, rq_app):
    run = create_run(session, "purge_expired_reads")
    session.commit()
    with rq_app.app_context():
        enqueue_run(retention.purge_expired_reads, run.id, run.attempts)
    assert _counts(rq_app) == {"ocr": 0, "retention": 1, "exports": 0, "default": 0}
    others = [q for name, q in rq_app.extensions["alpr_queue"].items() if name != "retention"]
    with rq_app.app_context():
        SimpleWorker(others, connection=others[0].connection).work(burst=True)
    session.commit()
    session.expire_all()
    assert session.get(JobRun, run.id).status == JobStatus.QUEUED.value, "no other queue runs it"
    retention_queue = rq_app.extensions["alpr_queue"]["retention"]
    with rq_app.app_context():
        SimpleWorker([retention_queue], connection=retention_queue.connection).work(burst=True)
    session.commit()  # ends the read snapshot: see what the worker committed
    session.expire_all()
    assert session.get(JobRun, run.id).status == JobStatus.DONE.value
    assert _counts(rq_app) == dict.fromkeys(QUEUES, 0)


@pytest.mark.parametrize(
    ("name", "arguments", "queue"),
    [
        ("ocr_read", {"read_id": 1}, "ocr"),
        ("purge_expired_reads", {}, "retention"),
        ("destroy_acp_existing_data", {"acp_request_id": 1}, "retention"),
        ("build_release_package", {"package_id": 1}, "exports"),
        ("verify_audit_chain", {}, "default"),
    ],
)
def test_the_recovery_sweep_requeues_a_run_on_the_queue_of_its_kind(
    session, rq_app, name, arguments, queue
):
    assert name in RECOVERABLE
    run = create_run(session, name, **arguments)
    session.commit()
    session.execute(
        update(JobRun).where(JobRun.id == run.id).values(queued_at=utcnow() - timedelta(minutes=10))
    )
    session.commit()
    with rq_app.app_context():
        assert recover(rq_app.extensions["alpr_sessionmaker"])["requeued"] == [run.id]
    assert _counts(rq_app) == {other: int(other == queue) for other in QUEUES}
