"""Searches and public pages read from a PostgreSQL streaming replica while it keeps up.

On the PostgreSQL backend a real replica of the test cluster is made (`pg_basebackup -R -X
stream` into a second data directory, started on a free loopback port) and a search is shown
to come from it: with its replay paused it answers with the replica's state, and once it is
later than the bound the app reads the primary instead. On both backends: no replica
configured means the primary, and the cached verdict on the replica's lag.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url

from app.auth.models import Role
from app.config import ConfigurationError, load_settings
from app.db import REPLICA_CHECK_SECONDS, Replica, db_session, read_session, utcnow
from app.reads.models import Search
from tests.conftest import BACKEND, PG_ADMIN_URL
from tests.factories import DeviceFactory, ReadFactory, UserFactory
from tests.helpers import _free_port, form_csrf, login

#: Settings a hot standby must have at least as high as its primary's, or it will not start.
STANDBY_MINIMUMS = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


def wait_for(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def search_device(client, device_id: int) -> tuple[int, list[int]]:
    """Search one device's last day of reads; (the stored result count, the ids shown)."""
    end = utcnow() + timedelta(minutes=1)
    local, zone = "%Y-%m-%dT%H:%M", ZoneInfo("America/Chicago")
    response = client.post(
        "/alpr/search",
        data={
            "csrf_token": form_csrf(client, "/alpr/search"),
            "purpose_category": "stolen_or_wanted_vehicle",
            "purpose": "Stolen vehicle investigation",
            "case_number": "24-000100",
            "start": (end - timedelta(hours=24)).astimezone(zone).strftime(local),
            "end": end.astimezone(zone).strftime(local),
            "device_id": str(device_id),
            "deployment_id": "0",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    search_id = int(response.headers["Location"].rsplit("/", 1)[1])
    shown = [int(n) for n in re.findall(rf'href="/alpr/reads/(\d+)\?via=search:{search_id}"', page)]
    with client.application.app_context():
        count = db_session().scalar(select(Search.result_count).where(Search.id == search_id))
    return count, shown


# --- on both backends -----------------------------------------------------------------------


def test_without_a_replica_reads_go_to_the_primary(app):
    assert app.config["DATABASE_REPLICA_URL"] is None
    with app.test_request_context("/public/log"):
        assert read_session() is db_session()


def test_a_replica_needs_a_postgresql_primary(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://replica.invalid/alpr")
    with pytest.raises(ConfigurationError, match="DATABASE_REPLICA_URL"):
        load_settings(tmp_path / "instance")
    monkeypatch.setenv("DATABASE_URL", "postgresql://primary.invalid/alpr")
    monkeypatch.setenv("ALPR_REPLICA_MAX_LAG_SECONDS", "-1")
    with pytest.raises(ConfigurationError, match="ALPR_REPLICA_MAX_LAG_SECONDS"):
        load_settings(tmp_path / "instance")
    monkeypatch.setenv("ALPR_REPLICA_MAX_LAG_SECONDS", "3")
    settings = load_settings(tmp_path / "instance")
    assert settings["DATABASE_REPLICA_URL"] == "postgresql+psycopg://replica.invalid/alpr"
    assert settings["REPLICA_MAX_LAG_SECONDS"] == 3


def test_the_verdict_on_the_replica_is_bounded_and_cached():
    now = [0.0]
    lags = [1.0, 9.0, float("inf"), 0.0]
    replica = Replica(engine=None, primary=None, max_lag_seconds=5, clock=lambda: now[0])  # type: ignore[arg-type]
    replica.lag_seconds = lambda: lags.pop(0)  # type: ignore[method-assign]
    assert replica.usable()  # 1 s behind: within the bound
    now[0] += REPLICA_CHECK_SECONDS / 2
    assert replica.usable() and len(lags) == 3, "checked again only after REPLICA_CHECK_SECONDS"
    now[0] += REPLICA_CHECK_SECONDS
    assert not replica.usable()  # 9 s behind
    now[0] += REPLICA_CHECK_SECONDS
    assert not replica.usable()  # unreachable
    now[0] += REPLICA_CHECK_SECONDS
    assert replica.usable()  # caught up again


# --- PostgreSQL: a real streaming replica ---------------------------------------------------

postgres_only = pytest.mark.skipif(
    BACKEND != "postgres", reason="a streaming replica is PostgreSQL's; SQLite has none"
)


def _as_postgres() -> dict[str, str]:
    """Run the replica's programs as the `postgres` account when we are root (it refuses root)."""
    return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}


@pytest.fixture(scope="module")
def replica_cluster(database_url: str) -> Iterator[tuple[str, Engine]]:
    """A streaming replica of the test cluster; yields (the test database's URL on it, admin)."""
    admin_url = make_url(PG_ADMIN_URL)
    primary = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with primary.connect() as conn:
        major = int(conn.scalar(text("SHOW server_version_num"))) // 10000
        minimums = {name: conn.scalar(text(f"SHOW {name}")) for name in STANDBY_MINIMUMS}
    primary.dispose()
    binaries = Path(f"/usr/lib/postgresql/{major}/bin")
    assert (binaries / "pg_basebackup").exists(), f"PostgreSQL {major}'s programs are missing"
    folder = Path(tempfile.mkdtemp(prefix="alpr-replica-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    env = {**os.environ, "PGPASSWORD": admin_url.password or ""}
    subprocess.run(
        [
            str(binaries / "pg_basebackup"),
            *("-h", admin_url.host or "127.0.0.1", "-p", str(admin_url.port or 5432)),
            *("-U", admin_url.username or "postgres", "-D", str(data)),
            *("-R", "-X", "stream", "-c", "fast"),
        ],
        check=True,
        capture_output=True,
        env=env,
        **_as_postgres(),
    )
    port = _free_port()
    settings = {
        "port": port,
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{folder}'",
        "hot_standby": "on",
        "shared_buffers": "'16MB'",
        **minimums,
    }
    (data / "postgresql.conf").write_text("".join(f"{k} = {v}\n" for k, v in settings.items()))
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    (data / "pg_ident.conf").write_text("")
    if os.geteuid() == 0:
        for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
            shutil.chown(data / name, "postgres", "postgres")
    with (folder / "replica.log").open("wb") as log:
        server = subprocess.Popen(
            [str(binaries / "postgres"), "-D", str(data)],
            stdout=log,
            stderr=subprocess.STDOUT,
            **_as_postgres(),
        )
    replica_admin = create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT"
    )

    def in_recovery() -> bool:
        assert server.poll() is None, (folder / "replica.log").read_text()
        try:
            with replica_admin.connect() as conn:
                return bool(conn.scalar(text("SELECT pg_is_in_recovery()")))
        except Exception:
            return False

    try:
        wait_for(in_recovery, "the replica to accept connections")
        database = make_url(database_url).database
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}", replica_admin
    finally:
        replica_admin.dispose()
        server.send_signal(signal.SIGINT)  # fast shutdown
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def caught_up(app, replica_admin: Engine) -> Callable[[], bool]:
    """Whether the replica has replayed everything the primary had flushed when asked."""
    with app.extensions["alpr_engine"].connect() as conn:
        flushed = conn.scalar(text("SELECT pg_current_wal_flush_lsn()::text"))

    def check() -> bool:
        with replica_admin.connect() as conn:
            return bool(
                conn.scalar(
                    text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"),
                    {"lsn": flushed},
                )
            )

    return check


def replica_queries(app) -> list[str]:
    """The statements the app sends to its replica (besides the lag check), as they go."""
    seen: list[str] = []

    @event.listens_for(app.extensions["alpr_replica"].engine, "before_cursor_execute")
    def _seen(_conn, _cursor, statement, *_args) -> None:
        if "pg_is_in_recovery" not in statement:
            seen.append(statement)

    return seen


@postgres_only
def test_a_search_is_served_by_the_replica_and_by_the_primary_when_it_lags(
    make_app, session, replica_cluster
):
    url, replica_admin = replica_cluster
    patient = make_app(DATABASE_REPLICA_URL=url, REPLICA_MAX_LAG_SECONDS=600)
    strict = make_app(DATABASE_REPLICA_URL=url, REPLICA_MAX_LAG_SECONDS=2)
    on_patient, on_strict = replica_queries(patient), replica_queries(strict)
    user = UserFactory(roles=(Role.OPERATOR,), trained=True)
    patient_client, strict_client = patient.test_client(), strict.test_client()
    for client in (patient_client, strict_client):
        assert login(client, user.email).status_code == 302
    device = DeviceFactory()
    now = utcnow()
    first = [
        ReadFactory(device=device, plate=f"RPL{n}", captured_at=now - timedelta(hours=n))
        for n in (1, 2)
    ]
    wait_for(caught_up(patient, replica_admin), "the first reads to be replayed")
    with replica_admin.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_pause()"))
        wait_for(
            lambda: conn.scalar(text("SELECT pg_get_wal_replay_pause_state()")) == "paused",
            "replay to pause",
        )
    later = ReadFactory(device=device, plate="RPL0", captured_at=now - timedelta(minutes=5))

    # The replica is paused before the third read: a search it serves finds two.
    assert search_device(patient_client, device.id) == (2, [first[0].id, first[1].id])
    assert any("FROM reads" in q for q in on_patient), "the count and page came from the replica"
    searched = len(on_patient)
    assert patient_client.get("/public/log").status_code == 200
    assert len(on_patient) > searched, "the public log read the replica too"

    # Later than the strict app's 2 s bound: its search reads the primary and finds three.
    wait_for(lambda: strict.extensions["alpr_replica"].lag_seconds() > 2, "the lag to grow")
    time.sleep(REPLICA_CHECK_SECONDS)  # the last verdict (if any) has expired
    assert search_device(strict_client, device.id) == (3, [later.id, first[0].id, first[1].id])
    assert on_strict == [], "a lagging replica serves nothing"

    # Replay resumes and catches up: the replica serves again, now with the third read.
    with replica_admin.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_resume()"))
    wait_for(caught_up(strict, replica_admin), "replay to catch up")
    time.sleep(REPLICA_CHECK_SECONDS)
    assert search_device(strict_client, device.id) == (3, [later.id, first[0].id, first[1].id])
    assert any("FROM reads" in q for q in on_strict), "caught up, the replica serves again"
    session.rollback()
    assert session.scalar(select(Search.id).where(Search.user_id == user.id).limit(1))


@postgres_only
def test_a_replica_that_does_not_answer_leaves_reads_on_the_primary(make_app):
    app = make_app(
        DATABASE_REPLICA_URL=f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/none"
    )
    with app.test_request_context("/public/log"):
        assert read_session() is db_session()
    assert app.test_client().get("/public/log").status_code == 200
