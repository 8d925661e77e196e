"""Fixtures: the app on SQLite (default) or on a PostgreSQL database made for this run.

ALPR_TEST_BACKEND=postgres runs every test against a fresh PostgreSQL database (created here,
dropped at the end) and real Redis; the default runs them on a SQLite file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app import create_app
from app.config import STATUTORY_RETENTION_DAYS
from app.db import Base, utcnow
from app.reads.partitions import DAYS_AHEAD, create_day_partitions
from tests import factories
from tests.helpers import login, serve

ROOT = Path(__file__).resolve().parent.parent
BACKEND = os.environ.get("ALPR_TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def pytest_report_header(config: pytest.Config) -> str:
    return f"ALPR Records test backend: {BACKEND}"


def migrate(url: str) -> None:
    """Build the schema the way production does: `alembic upgrade head`."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if BACKEND == "postgres":
        name = f"alpr_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        migrate(url)
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'alpr-test.sqlite3'}"
        migrate(url)
        yield url


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("instance")
    (path / "secret_key").write_text("test-secret-key-" + "x" * 40)
    (path / "acp_hmac_key").write_text("test-acp-hmac-key-" + "y" * 40)
    return path


@pytest.fixture(scope="session")
def base_config(database_url: str, instance_dir: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance_dir),
        "DATABASE_URL": database_url,
        "IMAGE_STORE": str(instance_dir / "images"),
        "DOCUMENT_STORE": str(instance_dir / "documents"),
        "RELEASE_STORE": str(instance_dir / "releases"),
        "REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "SERVER_NAME": None,
    }


@pytest.fixture(scope="session")
def app(base_config: dict[str, Any]) -> Flask:
    return create_app(dict(base_config))


@pytest.fixture
def make_app(base_config: dict[str, Any]):
    """A fresh app with overrides (its own limiter storage, lockout settings, queue)."""
    made: list[Flask] = []

    def _make(**overrides: Any) -> Flask:
        new = create_app({**base_config, **overrides})
        made.append(new)
        return new

    yield _make
    for built in made:
        built.extensions["alpr_engine"].dispose()
        if "alpr_replica" in built.extensions:
            built.extensions["alpr_replica"].engine.dispose()


def _wipe(app: Flask) -> None:
    """Delete every row (a test leaves few), and on PostgreSQL restart the id sequences.

    DELETE rather than TRUNCATE: TRUNCATE would recreate the files of every day partition of
    `reads` (app.reads.partitions) after each test.
    """
    engine = app.extensions["alpr_engine"]
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        if engine.dialect.name == "postgresql":
            for sequence in list(conn.scalars(text("SELECT sequencename FROM pg_sequences"))):
                conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
            # A purge with a moved clock drops day partitions; give the next test the
            # retention window's partitions again, as a running system has them.
            today = utcnow().date()
            window = range(-STATUTORY_RETENTION_DAYS, DAYS_AHEAD + 1)
            with Session(bind=conn) as partitions:
                create_day_partitions(partitions, (today + timedelta(days=n) for n in window))
                partitions.flush()
    for key in ("IMAGE_STORE", "DOCUMENT_STORE", "RELEASE_STORE"):
        shutil.rmtree(app.config[key], ignore_errors=True)


@pytest.fixture(autouse=True)
def clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts from an empty schema; the whole database is wiped after it."""
    yield
    if "app" in request.fixturenames or "session" in request.fixturenames:
        _wipe(request.getfixturevalue("app"))


@pytest.fixture
def app_ctx(context_app: Flask) -> Iterator[Flask]:
    """An app context for test code that calls services directly (see `context_app`)."""
    with context_app.app_context():
        yield context_app


def bind_factories(factory_class: type, db: Session) -> None:
    """Point every factory (including ones added later) at this test's session."""
    factory_class._meta.sqlalchemy_session = db
    for subclass in factory_class.__subclasses__():
        bind_factories(subclass, db)


@pytest.fixture(scope="session")
def context_app(base_config: dict[str, Any]) -> Flask:
    """A twin of `app` (same settings, same database) whose context the test code runs in.

    Flask reuses an already-pushed context of the *same* app for requests, which would share
    `g` (the request's session, the signed-in user) between the test and every request. Test
    code therefore runs in the twin's context, and each request gets a context of its own.
    """
    twin = create_app(dict(base_config))
    if BACKEND == "sqlite":
        observe_without_write_lock(twin)
    return twin


def observe_without_write_lock(twin: Flask) -> None:
    """Give the test code's session a plain (deferred) BEGIN on SQLite.

    The app begins every transaction IMMEDIATE, taking SQLite's write lock at once, so that a
    read-then-write transaction cannot fail when another commits in between. Test code reads
    between requests and would then hold that lock across the next request, CLI command or
    browser step; it is an observer, so its reads take no write lock, as before.
    """
    engine = create_engine(twin.config["DATABASE_URL"], poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        dbapi_connection.execute("PRAGMA busy_timeout=30000")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    twin.extensions["alpr_engine"].dispose()
    twin.extensions["alpr_engine"] = engine
    twin.extensions["alpr_sessionmaker"].configure(bind=engine)


@pytest.fixture
def session(app: Flask, context_app: Flask) -> Iterator[Session]:
    """A session in an app context, bound to the factories."""
    with context_app.app_context():
        from app.db import db_session

        db = db_session()
        bind_factories(factories.BaseFactory, db)
        yield db
        db.rollback()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def login_as(client: FlaskClient, session: Session):
    """Create a user with `roles` (trained by default) and sign the test client in as them."""

    def _login_as(*roles: Any, trained: bool = True, **fields: Any):
        user = factories.UserFactory(roles=roles, trained=trained, **fields)
        response = login(client, user.email)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return _login_as


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Real Redis; the test fails (not skips) when it is down, as CI starts it."""
    from redis import Redis

    Redis.from_url(REDIS_URL).ping()
    return REDIS_URL


# --- real headless Chromium --------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium: Playwright cannot download its own browser here."""
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """The app served by a real HTTP server on a free local port, for the browser tests."""
    with serve(app) as url:
        yield url
