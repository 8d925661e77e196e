"""Faults that must lose nothing: Redis down, a worker killed mid-job, the database cut, restarted.

Real services throughout: a private `redis-server` stopped and started again, real `rq worker`
processes whose work horse is killed with SIGKILL while it holds the job, a real SimpleWorker
(the OCR queue's) killed whole, and on PostgreSQL every backend of the test database terminated
while cameras post batches (on SQLite the database is held locked instead), and a private
PostgreSQL cluster restarted (`pg_ctl restart -m fast`) under the same load. After each fault
the recovery sweep and a fresh worker finish the work, and the state shows no trace of a
half-done step. S3's outage during an upload is test_image_store.py's.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import SimpleWorker
from rq.job import Job
from sqlalchemy import create_engine, event, func, select, text, update

from app.audit.actions import AuditAction
from app.audit.services import verify
from app.auth.models import Role
from app.db import utcnow
from app.jobs.models import JobRun, JobStatus
from app.jobs.services import create_run
from app.reads.images import image_path
from app.reads.models import PlateStatus, Read
from app.requests.models import AgencyRequest, ReleasePackage
from app.retention.models import ImageTombstone
from tests.conftest import BACKEND, migrate
from tests.factories import AgencyRequestFactory, ReadFactory, UserFactory
from tests.helpers import (
    _free_port,
    add_image,
    aged_read,
    dangling_images,
    details,
    device_with_token,
    entries,
    form_csrf,
    login,
    orphan_files,
    plate_picture,
    post_json,
    serve,
    surviving_ids,
    upload_fields,
    upload_image,
)
from tests.pg_replica import Cluster, private_cluster
from workers import retention
from workers.ocr import ocr_read
from workers.queue import QUEUES, enqueue_run, job_timeout, run_job_id
from workers.recovery import recover

ROOT = Path(__file__).resolve().parents[2]
READS_URL = "/api/v1/reads"


def _age_runs(session, *run_ids: int, minutes: int = 10) -> None:
    """Move the rows' clocks past the sweep's grace, as if minutes had gone by."""
    past = utcnow() - timedelta(minutes=minutes)
    session.execute(
        update(JobRun).where(JobRun.id.in_(run_ids)).values(queued_at=past, started_at=past)
    )
    session.commit()


def _sweep(app) -> dict:
    with app.app_context():
        return recover(app.extensions["alpr_sessionmaker"])


def _chain_holds(session) -> None:
    session.commit()
    result = verify(session)
    assert result.ok, result


# --- Redis down while cameras ingest and upload ---------------------------------------------


@contextmanager
def private_redis(port: int) -> Iterator[subprocess.Popen]:
    """A redis-server of this test's own (no persistence: a restart forgets every job)."""
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    client = Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except RedisConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def _ingest(client, token: str, prefix: str) -> None:
    reads = [
        {
            "plate": f"RDS{n:03d}",
            "captured_at": (utcnow() - timedelta(minutes=5, seconds=n)).isoformat(),
            "latitude": 44.05,
            "longitude": -91.64,
            "client_read_id": f"{prefix}-{n}",
        }
        for n in range(5)
    ]
    response = post_json(client, token, {"reads": reads}, url=READS_URL)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["stored"] == 5


def _upload(client, token: str, plate: str, fields: dict):
    """A camera's picture of `plate` without the plate itself: its OCR is queued."""
    return upload_image(client, token, fields, {"plate": (plate_picture(plate), "p.png")})


def test_redis_going_down_and_coming_back_empty_loses_no_read_and_no_ocr_job(session, make_app):
    _, token = device_with_token(session)
    session.commit()
    port = _free_port()
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{port}/0", RQ_QUEUE_PREFIX="faults-")
    client = app.test_client()
    with private_redis(port):
        _ingest(client, token, "up")
        before = _upload(client, token, "KTR 4821", upload_fields(client_read_id="img-1"))
        assert before.status_code == 201
        assert app.extensions["alpr_queue"]["ocr"].job_ids == [
            run_job_id(before.get_json()["ocr_job"], 0)
        ]

    # Redis is gone (and with it the job queued above): cameras carry on.
    _ingest(client, token, "down")
    sent = upload_fields(client_read_id="img-2")
    during = _upload(client, token, "MNB 7390", sent)
    assert during.status_code == 201, during.get_json()
    assert during.get_json()["plate_status"] == PlateStatus.PENDING_OCR.value
    resend = _upload(client, token, "MNB 7390", sent)
    assert resend.status_code == 200 and resend.get_json()["outcome"] == "duplicate"
    assert resend.get_json()["read_id"] == during.get_json()["read_id"]

    runs = [before.get_json()["ocr_job"], during.get_json()["ocr_job"]]
    session.expire_all()
    assert [r.status for r in session.scalars(select(JobRun).order_by(JobRun.id))] == [
        JobStatus.QUEUED.value
    ] * 2, "one job row per read, the resend added none"
    assert session.scalar(select(func.count()).select_from(Read)) == 12

    with private_redis(port):  # back, and empty: RQ knows neither job
        _age_runs(session, *runs)
        assert sorted(_sweep(app)["requeued"]) == runs
        queue = app.extensions["alpr_queue"]["ocr"]
        with app.app_context():
            SimpleWorker([queue], connection=queue.connection).work(burst=True)
        assert _sweep(app)["requeued"] == []

    session.expire_all()
    read_plates = {session.get(Read, r.get_json()["read_id"]).plate for r in (before, during)}
    assert read_plates == {"KTR4821", "MNB7390"}
    assert {session.get(JobRun, r).status for r in runs} == {JobStatus.DONE.value}
    assert len(entries(session, AuditAction.JOB_RECOVERED)) == 2
    _chain_holds(session)


# --- an RQ worker killed during a job -------------------------------------------------------


@pytest.fixture
def rq_app(make_app, redis_url):
    app = make_app(REDIS_URL=redis_url, RQ_QUEUE_PREFIX=f"test-faults-{uuid.uuid4().hex[:8]}-")
    yield app
    for queue in app.extensions["alpr_queue"].values():
        queue.delete(delete_jobs=True)


def _worker_env(app, instance_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": app.config["REDIS_URL"],
        "ALPR_INSTANCE_PATH": str(instance_dir),
        "ALPR_IMAGE_STORE": app.config["IMAGE_STORE"],
        "ALPR_DOCUMENT_STORE": app.config["DOCUMENT_STORE"],
        "ALPR_RELEASE_STORE": app.config["RELEASE_STORE"],
    }


#: The worker class the README runs the OCR queue with: no fork, the OCR engines stay loaded.
SIMPLE_WORKER = "rq.worker.SimpleWorker"


def _worker_command(app, worker_class: str | None = None) -> list[str]:
    prefix = app.config["RQ_QUEUE_PREFIX"]
    return [
        sys.executable,
        "-m",
        "rq.cli",
        "worker",
        "--burst",
        *(("--worker-class", worker_class) if worker_class else ()),
        "--url",
        app.config["REDIS_URL"],
        *(prefix + name for name in QUEUES),
    ]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _wait_for(condition, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def _worker_process(app, instance_dir: Path, worker_class: str | None = None):
    """A real burst `rq worker` on the app's queues, killed at the end if it still runs."""
    worker = subprocess.Popen(
        _worker_command(app, worker_class),
        cwd=ROOT,
        env=_worker_env(app, instance_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def _kill_horse_when(app, instance_dir: Path, blocked) -> None:
    """Start a real `rq worker`, wait until its work horse is `blocked`, SIGKILL the horse.

    The worker itself survives, sees its horse die and files the job as failed (abandoned), as
    RQ does for a worker whose job process was killed; being a burst worker it then exits.
    """
    with _worker_process(app, instance_dir) as worker:
        _wait_for(
            lambda: worker.poll() is not None or any(map(blocked, _children(worker.pid))),
            "the job to reach the fault",
        )
        assert worker.poll() is None, worker.communicate()[0][-2000:]
        (horse,) = _children(worker.pid)
        os.kill(horse, signal.SIGKILL)
        output, _ = worker.communicate(timeout=60)
    assert "terminated unexpectedly" in output, output[-2000:]


def _kill_simple_worker_when(app, instance_dir: Path, blocked) -> None:
    """Start a real SimpleWorker, wait until it is `blocked` in its job, SIGKILL the worker.

    The job runs in the worker's own process, so nothing of RQ's survives to file it: RQ still
    says "started" until the job's registry entry expires (its timeout and a minute).
    """
    with _worker_process(app, instance_dir, SIMPLE_WORKER) as worker:
        _wait_for(
            lambda: worker.poll() is not None or blocked(worker.pid), "the job to reach the fault"
        )
        assert worker.poll() is None, worker.communicate()[0][-2000:]
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(timeout=60) == -signal.SIGKILL


def _run_worker(app, instance_dir: Path, worker_class: str | None = None) -> None:
    done = subprocess.run(
        _worker_command(app, worker_class),
        cwd=ROOT,
        env=_worker_env(app, instance_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@contextmanager
def stuck_file(path: Path) -> Iterator[Callable[[int], bool]]:
    """Swap a stored picture for a FIFO: a job reading it hangs until the test lets it go.

    Yields a probe that is true once a process has opened the FIFO to read it (the horse is
    then inside its job, holding the job's transaction). The picture comes back afterwards.
    """
    content = path.read_bytes()
    path.unlink()
    os.mkfifo(path)
    writer: list[int] = []

    def opened(_horse: int) -> bool:
        try:
            writer.append(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # ENXIO: nobody reads it yet
            return False
        return True

    try:
        yield opened
    finally:
        for fd in writer:
            os.close(fd)
        path.unlink()
        path.write_bytes(content)


def _uploaded_for_ocr(session, rq_app) -> tuple[int, int, str]:
    """A picture uploaded for OCR: (its read's id, its job run's id, the picture's digest)."""
    _, token = device_with_token(session)
    session.commit()
    upload = _upload(rq_app.test_client(), token, "KTR 4821", upload_fields())
    assert upload.status_code == 201
    body = upload.get_json()
    return body["read_id"], body["ocr_job"], body["images"][0]["sha256"]


def _left_running(session, rq_app, read_id: int, run_id: int) -> Job:
    """After the kill: the read still waits, its run says running; RQ's job, to compare."""
    session.expire_all()
    assert session.get(Read, read_id).plate_status == PlateStatus.PENDING_OCR.value
    assert session.get(JobRun, run_id).status == JobStatus.RUNNING.value
    return Job.fetch(run_job_id(run_id, 0), connection=rq_app.extensions["alpr_redis"])


def _read_once_recovered(session, read_id: int, run_id: int) -> None:
    """The recovered run read the plate, in one recovery, audited as such."""
    session.expire_all()
    read = session.get(Read, read_id)
    assert (read.plate, read.plate_status) == ("KTR4821", PlateStatus.OCR_ACCEPTED.value)
    run = session.get(JobRun, run_id)
    assert (run.status, run.attempts) == (JobStatus.DONE.value, 1)
    (recovered,) = entries(session, AuditAction.JOB_RECOVERED)
    assert details(recovered) == {"name": "ocr_read", "attempt": 1, "was": "running"}


def test_a_worker_killed_during_ocr_leaves_the_read_pending_and_the_sweep_finishes_it(
    session, rq_app, instance_dir
):
    read_id, run_id, digest = _uploaded_for_ocr(session, rq_app)

    with rq_app.app_context(), stuck_file(image_path(digest)) as opened:
        _kill_horse_when(rq_app, instance_dir, opened)

    job = _left_running(session, rq_app, read_id, run_id)
    assert job.get_status() == "failed"

    _age_runs(session, run_id)
    assert _sweep(rq_app)["requeued"] == [run_id]
    _run_worker(rq_app, instance_dir)

    _read_once_recovered(session, read_id, run_id)
    _chain_holds(session)


def test_a_simple_worker_killed_during_ocr_is_found_past_its_deadline_and_finished(
    session, rq_app, instance_dir
):
    """The whole worker killed (the OCR queue's SimpleWorker): RQ can never say it died."""
    read_id, run_id, digest = _uploaded_for_ocr(session, rq_app)

    with rq_app.app_context(), stuck_file(image_path(digest)) as opened:
        _kill_simple_worker_when(rq_app, instance_dir, opened)

    job = _left_running(session, rq_app, read_id, run_id)
    assert job.get_status() == "started", "RQ cannot tell the worker died"

    _age_runs(session, run_id, minutes=10)  # within OCR's 10 minutes and the sweep's margin
    assert _sweep(rq_app) == {"requeued": [], "given_up": [], "waiting": 1}
    _age_runs(session, run_id, minutes=16)  # past its deadline: no live worker is on it
    assert _sweep(rq_app)["requeued"] == [run_id]
    _run_worker(rq_app, instance_dir, SIMPLE_WORKER)

    _read_once_recovered(session, read_id, run_id)

    # RQ's own maintenance files the dead attempt as abandoned once its entry expires; the
    # sweep then finds nothing more to do, and the read is not read twice.
    registry = rq_app.extensions["alpr_queue"]["ocr"].started_job_registry
    registry.cleanup(time.time() + job_timeout(ocr_read) + 120)
    assert job.get_status(refresh=True) == "failed"
    assert _sweep(rq_app) == {"requeued": [], "given_up": [], "waiting": 0}
    assert len(entries(session, AuditAction.READ_OCR_COMPLETED)) == 1
    _chain_holds(session)


def test_a_worker_killed_while_packaging_leaves_no_package_and_the_rebuild_is_whole(
    session, rq_app, instance_dir
):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    request = AgencyRequestFactory(
        status="approved",
        finding="A witness saw this plate leave the burglary.",
        active_investigation="Rochester PD case 25-000123",
        decided_by=chief,
        decided_at=utcnow(),
    )
    read = ReadFactory(plate="ABC123", captured_at=utcnow() - timedelta(hours=1))
    digest = add_image(session, read, "plate", content=b"the plate picture of the release")
    session.commit()
    client = rq_app.test_client()
    login(client, chief.email)
    page = f"/requests/{request.id}"
    built = client.post(f"{page}/packages", data={"csrf_token": form_csrf(client, page)})
    assert built.status_code == 302
    session.rollback()
    package = session.scalars(select(ReleasePackage)).one()
    store = Path(rq_app.config["RELEASE_STORE"])

    with rq_app.app_context(), stuck_file(image_path(digest)) as opened:
        _kill_horse_when(rq_app, instance_dir, opened)

    session.expire_all()
    package = session.get(ReleasePackage, package.id)
    assert package.file_name is None and package.sha256 is None
    assert session.get(AgencyRequest, request.id).status == "approved"
    assert entries(session, AuditAction.RELEASE_PACKAGE_BUILT) == []
    assert [p.name for p in store.glob("*.zip")] == [], "no finished-looking half archive"

    _age_runs(session, package.job_run_id)
    assert _sweep(rq_app)["requeued"] == [package.job_run_id]
    _run_worker(rq_app, instance_dir)

    session.expire_all()
    package = session.get(ReleasePackage, package.id)
    assert package.read_count == 1 and package.image_count == 1
    assert [p.name for p in store.iterdir()] == [package.file_name], "the killed build's file went"
    assert session.get(AgencyRequest, request.id).status == "fulfilled"
    assert len(entries(session, AuditAction.RELEASE_PACKAGE_BUILT)) == 1
    _chain_holds(session)


@contextmanager
def database_held(app) -> Iterator[Callable[[int], bool]]:
    """Hold what every destruction batch needs before it commits, so the purge stops in one.

    PostgreSQL: a SHARE lock on the reads table (every batch deletes from it or drops a day).
    SQLite: the database's write lock. Yields a probe: is the horse waiting on it?
    """
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        holder = sqlite3.connect(url.removeprefix("sqlite:///"))
        holder.execute("BEGIN IMMEDIATE")
        database = Path(url.removeprefix("sqlite:///")).resolve()

        def waiting(horse: int) -> bool:
            fds = Path(f"/proc/{horse}/fd")
            try:
                opened = any(Path(os.readlink(fd)) == database for fd in fds.iterdir())
            except OSError:
                return False
            if opened:
                time.sleep(1)  # it has the file open: let it reach the lock
            return opened

        try:
            yield waiting
        finally:
            holder.rollback()
            holder.close()
        return
    engine = create_engine(url)
    with engine.connect() as holder:
        # SHARE blocks the purge's DELETE (ROW EXCLUSIVE) and a whole day's DROP (ACCESS
        # EXCLUSIVE) alike, and lets its reads through.
        holder.execute(text("LOCK TABLE reads IN SHARE MODE"))

        def waiting(_horse: int) -> bool:
            return bool(
                holder.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND NOT granted"
                        " AND database = (SELECT oid FROM pg_database"
                        " WHERE datname = current_database())"
                    )
                ).scalar()
            )

        try:
            yield waiting
        finally:
            holder.rollback()
    engine.dispose()


def test_a_worker_killed_during_a_purge_batch_stores_none_of_it_and_the_rerun_finishes(
    app, session, rq_app, instance_dir
):
    condemned = [aged_read(61 + n) for n in range(3)]
    digests = [add_image(session, read) for read in condemned]
    kept = aged_read(10)
    add_image(session, kept)
    session.commit()
    everyone = surviving_ids(session)
    run = create_run(session, "purge_expired_reads")
    session.commit()
    with rq_app.app_context():
        enqueue_run(retention.purge_expired_reads, run.id, run.attempts)

    with database_held(rq_app) as waiting:
        _kill_horse_when(rq_app, instance_dir, waiting)

    session.expire_all()
    assert surviving_ids(session) == everyone, "the batch in flight was rolled back whole"
    assert session.scalars(select(ImageTombstone)).all() == []
    assert entries(session, AuditAction.READS_PURGED) == []
    assert all(image_path(d).exists() for d in digests)
    assert dangling_images(session) == []

    _age_runs(session, run.id)
    assert _sweep(rq_app)["requeued"] == [run.id]
    _run_worker(rq_app, instance_dir)

    session.expire_all()
    assert surviving_ids(session) == {kept.id}
    assert session.get(JobRun, run.id).status == JobStatus.DONE.value
    assert not any(image_path(d).exists() for d in digests)
    assert orphan_files(app, session) == [] and dangling_images(session) == []
    _chain_holds(session)


# --- the database cut off under load ---------------------------------------------------------


def _batch(prefix: str, size: int) -> bytes:
    now = utcnow()
    return json.dumps(
        {
            "reads": [
                {
                    "plate": f"PGR{n:04d}",
                    "captured_at": (now - timedelta(minutes=2, milliseconds=n)).isoformat(),
                    "latitude": 44.05,
                    "longitude": -91.64,
                    "client_read_id": f"{prefix}-{n}",
                }
                for n in range(size)
            ]
        }
    ).encode()


@contextmanager
def database_faults(app) -> Iterator[list[int]]:
    """Cut the app off its database again and again until the block ends; counts the cuts.

    PostgreSQL: terminate every other backend of the test database (what a restart does to
    open connections). SQLite: hold the write lock longer than the app waits for it.
    """
    url = app.config["DATABASE_URL"]
    stop = threading.Event()
    cuts = [0]

    def postgres() -> None:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            while not stop.wait(0.15):
                cuts[0] += conn.execute(
                    text(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                        "FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar()
        engine.dispose()

    def sqlite() -> None:
        holder = sqlite3.connect(url.removeprefix("sqlite:///").split("?")[0], timeout=30)
        while not stop.wait(0.15):
            holder.execute("BEGIN IMMEDIATE")
            time.sleep(0.3)
            holder.rollback()
            cuts[0] += 1
        holder.close()

    thread = threading.Thread(target=sqlite if url.startswith("sqlite") else postgres)
    thread.start()
    try:
        yield cuts
    finally:
        stop.set()
        thread.join()


def _nothing_lost_under(app, token: str, faults, observer) -> None:
    """Cameras post batches through `faults` (a context manager counting its faults); then
    every answer was 200 or a clean 503, no batch is stored in part, the refused batches sent
    again are stored whole, and the audit chain verifies. `observer` reads the app's database.
    """
    size, clients, seconds = 50, 4, 3.0
    bodies: dict[str, bytes] = {}
    answers: dict[str, httpx.Response] = {}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def send(http: httpx.Client, name: str) -> None:
        bodies.setdefault(name, _batch(name, size))
        answers[name] = http.post(READS_URL, content=bodies[name], headers=headers)

    def camera(n: int, base: str) -> None:
        """Batch after batch for `seconds`, whatever the answers (a camera retries later)."""
        deadline = time.monotonic() + seconds
        with httpx.Client(base_url=base, timeout=60) as http:
            for k in itertools.count():
                if time.monotonic() > deadline:
                    return
                send(http, f"c{n}x{k}")

    with serve(app) as base, faults as cuts:
        threads = [threading.Thread(target=camera, args=(n, base)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert cuts[0] > 0

    codes = {name: answer.status_code for name, answer in answers.items()}
    assert set(codes.values()) <= {200, 503}, {n: a.text[:300] for n, a in answers.items()}
    refused = [name for name, code in codes.items() if code == 503]
    assert refused, "the faults were felt"
    for name in refused:
        assert answers[name].headers["Retry-After"] == "5"
        assert answers[name].json()["status"] == 503
    observer.rollback()  # a new snapshot (SQLite's observer reads in one otherwise)
    stored = Counter(cid.split("-")[0] for cid in observer.scalars(select(Read.client_read_id)))
    # Whole or nothing: every answered batch is stored, and no batch in part. A refused batch
    # may stand whole too, when its commit landed just before the connection died (its
    # resend is then a duplicate).
    assert set(stored.values()) <= {size}
    assert {name for name, code in codes.items() if code == 200} <= set(stored)

    # The service resumes by itself: the refused batches sent again are stored whole.
    with serve(app) as base, httpx.Client(base_url=base, timeout=60) as http:
        for name in refused:
            send(http, name)
    assert {answers[name].status_code for name in refused} == {200}
    observer.rollback()
    assert observer.scalar(select(func.count()).select_from(Read)) == len(bodies) * size
    _chain_holds(observer)


def test_cutting_the_database_off_under_load_answers_503_and_stores_no_partial_batch(
    session, make_app, database_url
):
    _, token = device_with_token(session)
    session.commit()
    app = make_app(PROPAGATE_EXCEPTIONS=False, TESTING=False)
    if database_url.startswith("sqlite"):
        # Wait 100 ms for SQLite's write lock, not the app's 30 s, so the lock is felt.
        @event.listens_for(app.extensions["alpr_engine"], "connect")
        def _impatient(dbapi_connection, _record) -> None:
            dbapi_connection.execute("PRAGMA busy_timeout=100")

    _nothing_lost_under(app, token, database_faults(app), session)


@contextmanager
def restarts(cluster: Cluster) -> Iterator[list[int]]:
    """Restart the cluster (`pg_ctl restart -m fast`) again and again until the block ends.

    Each restart ends every connection and refuses new ones until the server is back: what an
    upgrade or a failover does to the app. Counts the restarts; the server is up at the end.
    """
    stop = threading.Event()
    done = [0]

    def restart() -> None:
        while not stop.wait(0.4):
            cluster.pg_ctl("restart", "-m", "fast")
            done[0] += 1

    thread = threading.Thread(target=restart)
    thread.start()
    try:
        yield done
    finally:
        stop.set()
        thread.join()


@pytest.mark.skipif(BACKEND != "postgres", reason="a PostgreSQL server's restart; SQLite has none")
def test_restarting_postgresql_under_load_answers_503_and_stores_no_partial_batch(make_app):
    with private_cluster() as cluster:
        admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE alpr"))
        admin.dispose()
        migrate(cluster.url("alpr"))
        app = make_app(DATABASE_URL=cluster.url("alpr"), PROPAGATE_EXCEPTIONS=False, TESTING=False)
        with app.extensions["alpr_sessionmaker"]() as observer:
            _, token = device_with_token(observer)
            _nothing_lost_under(app, token, restarts(cluster), observer)
