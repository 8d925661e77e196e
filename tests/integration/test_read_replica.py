"""Searches and public pages read from a PostgreSQL streaming replica while it keeps up.

On the PostgreSQL backend a real replica of the test cluster is made (`pg_basebackup -R -X
stream` into a second data directory, started on a free loopback port) and a search is shown
to come from it: with its replay paused it answers with the replica's state, and once it is
later than the bound the app reads the primary instead. On both backends: no replica
configured means the primary, and the cached verdict on the replica's lag.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.engine import make_url

from app.auth.models import Role
from app.config import ConfigurationError, load_settings
from app.db import REPLICA_CHECK_SECONDS, Replica, db_session, read_session, utcnow
from app.reads.models import Search
from tests.conftest import BACKEND, PG_ADMIN_URL
from tests.factories import DeviceFactory, ReadFactory, UserFactory
from tests.helpers import _free_port, form_csrf, login
from tests.pg_replica import replayed, streaming_replica, wait_for


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


@pytest.fixture(scope="module")
def replica_cluster(database_url: str) -> Iterator[tuple[str, Engine]]:
    """A streaming replica of the test cluster; yields (the test database's URL on it, admin)."""
    with streaming_replica(PG_ADMIN_URL) as (port, replica_admin):
        database = make_url(database_url).database
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}", replica_admin


def caught_up(app, replica_admin: Engine) -> Callable[[], bool]:
    """Whether the replica has replayed everything the primary had flushed when asked."""
    return replayed(app.extensions["alpr_engine"], replica_admin)


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
    # On a busy shared machine replay may trail by seconds: wait for a verdict within the
    # bound, then hold it (a frozen clock) for the search that follows.
    replica = strict.extensions["alpr_replica"]
    wait_for(replica.usable, "the replica to be within 2 s")
    frozen = replica.clock()
    replica.clock = lambda: frozen
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
