"""Engine, sessions (and the settings they carry to services), the declarative base."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from flask import Flask, current_app, g
from psycopg.types.array import ListBinaryDumper
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Refuse naive datetimes; SQLite gets naive UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a timezone first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Always aware UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base: one metadata with stable constraint names for Alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def sql_values(enum: type[StrEnum]) -> str:
    """An enum's values as a SQL list, for the CHECK constraints that pin status columns."""
    return ", ".join(f"'{member.value}'" for member in enum)


def utcnow() -> datetime:
    """The one clock the models use, so tests can reason about it."""
    return datetime.now(UTC)


def _configure_sqlite(engine: Engine, enforce_foreign_keys: bool) -> None:
    """Let SQLAlchemy own transactions on SQLite (pysqlite's own BEGIN handling is broken)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if enforce_foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _configure_postgresql(engine: Engine) -> None:
    """Send list parameters as binary arrays.

    The ingest and purge bind one array per column (:mod:`app.reads.bulk`). psycopg's default
    text dumper quotes an array element by element with a regular expression in Python; the
    binary dumper does not (measured: 7 arrays of 500 elements, 7.2 ms per round trip as
    text, 1.9 ms as binary). Registering it for ``list`` also makes it the ``%s`` default.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)


def make_engine(
    url: str, *, enforce_foreign_keys: bool = True, connect_timeout: int | None = None
) -> Engine:
    """Build the engine for DATABASE_URL; SQLite gets WAL and foreign keys.

    Errors and logs never show bound parameters (`hide_parameters`): they are plates, some of
    them an ACP participant's, and errors reach job records and logs.

    Migrations turn SQLite's foreign keys off (`enforce_foreign_keys=False`): SQLite changes a
    table by copying it and dropping the original, and with enforcement on that drop would
    cascade to the rows that refer to it. They check the keys themselves afterwards.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, poolclass=NullPool, hide_parameters=True)
        _configure_sqlite(engine, enforce_foreign_keys)
        return engine
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        hide_parameters=True,
        connect_args={} if connect_timeout is None else {"connect_timeout": connect_timeout},
    )
    _configure_postgresql(engine)
    return engine


#: How long one verdict on the replica (usable or not) stands before it is checked again.
REPLICA_CHECK_SECONDS = 1.0
#: A replica that does not answer within this many seconds is taken as down.
REPLICA_CONNECT_TIMEOUT = 2

log = logging.getLogger(__name__)


class Replica:
    """A PostgreSQL streaming replica that serves reads while it keeps up with the primary.

    Its lag is how long ago the last transaction it replayed committed on the primary,
    counted only while it is behind the primary's flushed WAL (an idle primary does not make a
    caught-up replica look late). A replica that is unreachable, not in recovery (promoted:
    no longer a copy of this primary) or later than `max_lag_seconds` is not used; the verdict
    is cached for REPLICA_CHECK_SECONDS so a busy page does not check on every request.
    """

    def __init__(
        self,
        engine: Engine,
        primary: Engine,
        max_lag_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.primary = primary
        self.max_lag_seconds = max_lag_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._verdict: tuple[float, bool] | None = None

    def lag_seconds(self) -> float:
        """Seconds the replica is behind the primary; infinite when it cannot serve at all."""
        try:
            with self.primary.connect() as conn:
                flushed = conn.scalar(text("SELECT pg_current_wal_flush_lsn()::text"))
            with self.engine.connect() as conn:
                recovering, caught_up, behind = conn.execute(
                    text(
                        "SELECT pg_is_in_recovery(),"
                        " pg_last_wal_replay_lsn() >= CAST(:flushed AS pg_lsn),"
                        " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
                    ),
                    {"flushed": flushed},
                ).one()
        except DBAPIError as exc:
            log.warning("read replica unreachable, reading from the primary: %s", exc.orig)
            return math.inf
        if not recovering:
            log.warning("the read replica is not in recovery: reading from the primary")
            return math.inf
        if caught_up:
            return 0.0
        return math.inf if behind is None else max(0.0, float(behind))

    def usable(self) -> bool:
        """Whether reads may go to the replica now (checked once per REPLICA_CHECK_SECONDS)."""
        with self._lock:
            now = self.clock()
            if self._verdict is None or now - self._verdict[0] >= REPLICA_CHECK_SECONDS:
                self._verdict = (now, self.lag_seconds() <= self.max_lag_seconds)
            return self._verdict[1]


# A service runs the same in a view, an RQ job, a CLI command or a benchmark: it takes the
# session it works in, and the session carries the installation's settings in ``session.info``
# (put there by the session factory, :func:`init_app`). No service reads ``current_app``.


@dataclass(frozen=True)
class ServiceSettings:
    """The secrets and stores of this installation that services use."""

    acp_hmac_key: str
    image_store: str
    document_store: str
    audit_signing_key: bytes
    #: The destruction ledger (app/retention/ledger.py), a file outside the database.
    destruction_ledger: str = ""
    s3_endpoint_url: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ServiceSettings:
        """The settings from the app's configuration (app/config.py)."""
        return cls(
            acp_hmac_key=config["ACP_HMAC_KEY"],
            image_store=config["IMAGE_STORE"],
            document_store=config["DOCUMENT_STORE"],
            audit_signing_key=config["AUDIT_SIGNING_KEY"],
            destruction_ledger=config["DESTRUCTION_LEDGER"],
            s3_endpoint_url=config.get("S3_ENDPOINT_URL"),
        )


def settings_of(session: Session) -> ServiceSettings:
    """The settings the session was made with; a session made without them is a bug here."""
    try:
        return session.info["settings"]
    except KeyError:
        raise RuntimeError(
            "this session carries no ServiceSettings: make it with the app's session factory "
            "or Session(..., info={'settings': ServiceSettings(...)})"
        ) from None


def init_app(app: Flask) -> None:
    """Bind an engine and session factory to the app; close the request session on teardown."""
    engine = make_engine(app.config["DATABASE_URL"])
    settings = ServiceSettings.from_config(app.config)
    # With a dedicated sequencer process (`audit sequence --follow`) commits leave the chaining
    # to it (app.audit.services).
    info = {"settings": settings, "audit_after_commit": not app.config["AUDIT_SEQUENCER_PROCESS"]}
    factory = sessionmaker(bind=engine, expire_on_commit=False, info=info)
    app.extensions["alpr_engine"] = engine
    app.extensions["alpr_sessionmaker"] = factory
    replica_url = app.config.get("DATABASE_REPLICA_URL")
    if replica_url:
        replica_engine = make_engine(replica_url, connect_timeout=REPLICA_CONNECT_TIMEOUT)
        app.extensions["alpr_replica"] = Replica(
            replica_engine, engine, app.config["REPLICA_MAX_LAG_SECONDS"]
        )
        app.extensions["alpr_replica_sessionmaker"] = sessionmaker(
            bind=replica_engine, expire_on_commit=False, info={"settings": settings}
        )

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        for name in ("db_session", "read_session"):
            session: Session | None = g.pop(name, None)
            if session is not None:
                session.close()


def db_session() -> Session:
    """The session of the current request, job or command (one per app context)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["alpr_sessionmaker"]()
    return g.db_session


def read_session() -> Session:
    """A session for read-only queries: the replica's while it keeps up, else the primary's.

    Only queries that write nothing and whose answer may be a few seconds old
    (ALPR_REPLICA_MAX_LAG_SECONDS) go here: search result lists and counts, public pages.
    Writes, audit entries and the guards that must see the latest state stay on
    :func:`db_session`.
    """
    if "read_session" not in g:
        replica: Replica | None = current_app.extensions.get("alpr_replica")
        if replica is not None and replica.usable():
            g.read_session = current_app.extensions["alpr_replica_sessionmaker"]()
        else:
            g.read_session = db_session()
    return g.read_session


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """A fresh session that commits once on success and rolls back on error."""
    session: Session = current_app.extensions["alpr_sessionmaker"]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
