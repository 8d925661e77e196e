"""Jobs nothing would finish are found and run again: Redis down at upload, a worker killed.

Real Redis and a real RQ (Simple)Worker on both databases; the worker's death is what RQ records
for it (the job filed as failed while its row still says running).
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from rq import Queue, SimpleWorker
from rq.job import JobStatus as RqStatus
from sqlalchemy import update

from app.audit.actions import AuditAction
from app.db import utcnow
from app.jobs.models import JobRun, JobStatus
from app.jobs.services import MAX_RECOVERY_ATTEMPTS, create_run, run_tracked
from app.reads.image_store import ImageStoreUnavailable
from app.reads.models import PlateStatus, Read
from tests.helpers import (
    details,
    device_with_token,
    entries,
    plate_picture,
    upload_fields,
    upload_image,
)
from workers import ocr
from workers.queue import run_job_id
from workers.recovery import RECOVERABLE, SWEEP_NAME, recover
from workers.schedules import SCHEDULES


def _age(session, run_id: int, *, minutes: int, column: str = "queued_at") -> None:
    session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values({column: utcnow() - timedelta(minutes=minutes)})
    )
    session.commit()


@pytest.fixture
def rq_app(make_app, redis_url):
    """An app on real Redis with queues of its own, emptied afterwards."""
    app = make_app(REDIS_URL=redis_url, RQ_QUEUE_PREFIX=f"test-recover-{uuid.uuid4().hex[:8]}-")
    yield app
    for queue in app.extensions["alpr_queue"].values():
        queue.delete(delete_jobs=True)


def _queue(app, name: str = "ocr") -> Queue:
    return app.extensions["alpr_queue"][name]


def _sweep(app) -> dict:
    with app.app_context():
        return recover(app.extensions["alpr_sessionmaker"])


def test_an_upload_while_redis_is_down_succeeds_and_its_ocr_runs_once_redis_is_back(
    session, make_app, rq_app
):
    _, token = device_with_token(session)
    session.commit()
    down = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    response = upload_image(
        down.test_client(), token, upload_fields(), {"plate": (plate_picture("KTR 4821"), "p.png")}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["plate_status"] == PlateStatus.PENDING_OCR.value
    run_id = body["ocr_job"]
    session.expire_all()
    assert session.get(JobRun, run_id).status == JobStatus.QUEUED.value

    assert _sweep(rq_app)["requeued"] == [], "a fresh row is given time to reach the queue"
    _age(session, run_id, minutes=3)
    outcome = _sweep(rq_app)
    assert outcome["requeued"] == [run_id]
    queue = _queue(rq_app)
    assert queue.job_ids == [run_job_id(run_id, 1)]
    with rq_app.app_context():
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    session.expire_all()
    read = session.get(Read, body["read_id"])
    assert (read.plate, read.plate_status) == ("KTR4821", PlateStatus.OCR_ACCEPTED.value)
    run = session.get(JobRun, run_id)
    assert (run.status, run.attempts) == (JobStatus.DONE.value, 1)
    (recovered,) = entries(session, AuditAction.JOB_RECOVERED)
    assert details(recovered) == {"name": "ocr_read", "attempt": 1, "was": "queued"}
    assert _sweep(rq_app)["requeued"] == []


def _pending_run(session, status: JobStatus = JobStatus.RUNNING) -> tuple[Read, JobRun]:
    device, _ = device_with_token(session)
    from tests.factories import ReadFactory

    read = ReadFactory(device=device, plate=None, plate_status=PlateStatus.PENDING_OCR.value)
    run = create_run(session, "ocr_read", read_id=read.id)
    run.status = status.value
    run.started_at = utcnow() if status is JobStatus.RUNNING else None
    session.commit()
    return read, run


def test_a_run_whose_worker_was_killed_is_requeued(session, rq_app):
    _, run = _pending_run(session)
    queue = _queue(rq_app)
    job = queue.enqueue(ocr.ocr_read, args=(1, run.id), job_id=run_job_id(run.id, 0))
    _age(session, run.id, minutes=5, column="started_at")
    assert _sweep(rq_app) == {"requeued": [], "given_up": [], "waiting": 1}, "RQ still holds it"
    job.set_status(RqStatus.FAILED)  # what RQ files for a job whose worker died
    queue.remove(job)
    assert _sweep(rq_app)["requeued"] == [run.id]
    session.expire_all()
    assert (session.get(JobRun, run.id).status, session.get(JobRun, run.id).attempts) == (
        JobStatus.QUEUED.value,
        1,
    )
    assert queue.job_ids == [run_job_id(run.id, 1)]


def test_without_redis_a_stale_queued_run_is_run_by_the_sweep(app, session):
    read, run = _pending_run(session, JobStatus.QUEUED)
    _age(session, run.id, minutes=3)
    outcome = _sweep(app)
    assert outcome["requeued"] == [run.id]
    session.expire_all()
    assert session.get(JobRun, run.id).status == JobStatus.DONE.value
    assert session.get(Read, read.id).plate_status != PlateStatus.PENDING_OCR.value


def test_without_redis_a_running_job_is_left_until_it_would_have_timed_out(app, session):
    _, run = _pending_run(session)
    _age(session, run.id, minutes=10, column="started_at")  # OCR may run 10 min, and 5 more
    assert _sweep(app) == {"requeued": [], "given_up": [], "waiting": 1}
    _age(session, run.id, minutes=16, column="started_at")
    assert _sweep(app)["requeued"] == [run.id]


def test_a_run_out_of_attempts_is_failed_and_audited(app, session):
    _, run = _pending_run(session, JobStatus.QUEUED)
    run.attempts = MAX_RECOVERY_ATTEMPTS
    session.commit()
    _age(session, run.id, minutes=3)
    assert _sweep(app) == {"requeued": [], "given_up": [run.id], "waiting": 0}
    session.expire_all()
    failed = session.get(JobRun, run.id)
    assert failed.status == JobStatus.FAILED.value and "gave up after 3" in failed.error
    (entry,) = entries(session, AuditAction.JOB_FAILED)
    assert entry.subject_id == str(run.id)


def test_unknown_and_finished_runs_are_left_alone(app, session):
    stranger = create_run(session, "no_such_job")
    done = create_run(session, "ocr_read", read_id=1)
    done.status = JobStatus.DONE.value
    session.commit()
    _age(session, stranger.id, minutes=60)
    _age(session, done.id, minutes=60)
    assert _sweep(app) == {"requeued": [], "given_up": [], "waiting": 0}


def test_every_scheduled_job_but_the_sweep_can_be_recovered():
    assert {s.name for s in SCHEDULES} - {SWEEP_NAME} <= set(RECOVERABLE)
    assert SWEEP_NAME in {s.name for s in SCHEDULES}


def test_the_cli_recovers_now(app, session):
    _, run = _pending_run(session, JobStatus.QUEUED)
    _age(session, run.id, minutes=3)
    result = app.test_cli_runner().invoke(args=["jobs", "recover"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["requeued"] == [run.id]


def test_a_job_a_service_failed_under_runs_again_and_its_own_error_does_not(app, session):
    read, run = _pending_run(session, JobStatus.QUEUED)
    sessions = app.extensions["alpr_sessionmaker"]

    def store_down(_session, _run):
        raise ImageStoreUnavailable("the bucket does not answer")

    with pytest.raises(ImageStoreUnavailable):
        run_tracked(sessions, "ocr_read", run.id, store_down)
    session.expire_all()
    interrupted = session.get(JobRun, run.id)
    assert interrupted.status == JobStatus.QUEUED.value and interrupted.error
    (entry,) = entries(session, AuditAction.JOB_FAILED)
    assert details(entry)["runs_again"] is True
    _age(session, run.id, minutes=3)
    assert _sweep(app)["requeued"] == [run.id]
    session.expire_all()
    assert session.get(JobRun, run.id).status == JobStatus.DONE.value
    assert session.get(Read, read.id).plate_status != PlateStatus.PENDING_OCR.value

    broken = create_run(session, "ocr_read", read_id=read.id)
    session.commit()

    def own_error(_session, _run):
        raise ValueError("a bug in the job")

    with pytest.raises(ValueError):
        run_tracked(sessions, "ocr_read", broken.id, own_error)
    session.expire_all()
    assert session.get(JobRun, broken.id).status == JobStatus.FAILED.value
    _age(session, broken.id, minutes=3)
    assert broken.id not in _sweep(app)["requeued"]
