"""PostgreSQL clusters of a test's own: a streaming replica of the local one, or a fresh one.

`pg_basebackup -R -X stream` copies the running cluster (every database) into a temporary data
directory, and that copy starts as a hot standby on a free loopback port, replaying the
primary's WAL as it streams. A replication slot (dropped at the end) keeps the primary from
recycling WAL the replica has not received yet, which a busy primary does within minutes. Needs
a replication connection: scripts/services allows one on loopback. Used by the replica test
and bench/replica.py.

:func:`private_cluster` initdb's an empty cluster instead, which a test may stop and restart
(the fault tests restart it under load) without touching the cluster every other test uses.

Both run as the `postgres` account when we are root (the server refuses root).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from tests.helpers import _free_port

#: Settings a hot standby must have at least as high as its primary's, or it will not start.
STANDBY_MINIMUMS = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


def wait_for(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    """Poll `check` until it holds; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _as_postgres() -> dict[str, str]:
    return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}


def replayed(primary: Engine, replica: Engine) -> Callable[[], bool]:
    """A check: has the replica replayed all the primary had flushed when this was called?"""
    with primary.connect() as conn:
        flushed = conn.scalar(text("SELECT pg_current_wal_flush_lsn()::text"))
    query = text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)")

    def check() -> bool:
        with replica.connect() as conn:
            return bool(conn.scalar(query, {"lsn": flushed}))

    return check


@contextmanager
def streaming_replica(admin_url: str) -> Iterator[tuple[int, Engine]]:
    """A hot standby of the cluster `admin_url` reaches; yields (its port, an admin engine).

    Stopped (fast shutdown) and its data directory deleted on exit.
    """
    admin = make_url(admin_url)
    primary = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with primary.connect() as conn:
        major = int(conn.scalar(text("SHOW server_version_num"))) // 10000
        minimums = {name: conn.scalar(text(f"SHOW {name}")) for name in STANDBY_MINIMUMS}
    primary.dispose()
    binaries = programs(major)
    folder = _server_folder("alpr-replica-")
    data = folder / "data"
    slot = f"alpr_replica_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    server = None
    try:
        subprocess.run(
            [
                str(binaries / "pg_basebackup"),
                *("-h", admin.host or "127.0.0.1", "-p", str(admin.port or 5432)),
                *("-U", admin.username or "postgres", "-D", str(data)),
                *("-R", "-X", "stream", "-c", "fast", "-C", "-S", slot),
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "PGPASSWORD": admin.password or ""},
            **_as_postgres(),
        )
        port = _free_port()
        _configure(folder, data, port, hot_standby="on", **minimums)
        with (folder / "replica.log").open("wb") as log:
            server = subprocess.Popen(
                [str(binaries / "postgres"), "-D", str(data)],
                stdout=log,
                stderr=subprocess.STDOUT,
                **_as_postgres(),
            )
        replica = create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
            isolation_level="AUTOCOMMIT",
        )

        def in_recovery() -> bool:
            if server.poll() is not None:
                raise RuntimeError((folder / "replica.log").read_text())
            try:
                with replica.connect() as conn:
                    return bool(conn.scalar(text("SELECT pg_is_in_recovery()")))
            except Exception:
                return False

        try:
            wait_for(in_recovery, "the replica to accept connections", seconds=180)
            yield port, replica
        finally:
            replica.dispose()
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)  # fast shutdown
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(folder, ignore_errors=True)
        _drop_slot(admin_url, slot)


def programs(major: int | None = None) -> Path:
    """The folder of PostgreSQL `major`'s programs (the newest installed when None)."""
    root = Path("/usr/lib/postgresql")
    if major is None:
        installed = sorted(int(p.name) for p in root.glob("*") if (p / "bin" / "initdb").exists())
        if not installed:
            raise RuntimeError(f"no PostgreSQL server programs under {root}")
        major = installed[-1]
    binaries = root / str(major) / "bin"
    if not (binaries / "pg_basebackup").exists():
        raise RuntimeError(f"PostgreSQL {major}'s programs are not in {binaries}")
    return binaries


def _server_folder(prefix: str) -> Path:
    """A temporary folder the server's account owns (its data directory goes inside)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    return folder


def _configure(folder: Path, data: Path, port: int, **settings: object) -> None:
    """Write the server's settings: loopback `port`, its socket in `folder`, trust on loopback."""
    settings = {
        "port": port,
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{folder}'",
        "shared_buffers": "'16MB'",
        **settings,
    }
    files = {
        "postgresql.conf": "".join(f"{k} = {v}\n" for k, v in settings.items()),
        "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        "pg_ident.conf": "",
    }
    for name, content in files.items():
        (data / name).write_text(content)
        if os.geteuid() == 0:
            shutil.chown(data / name, "postgres", "postgres")


@dataclass(frozen=True)
class Cluster:
    """A private cluster: its port, and `pg_ctl` on its data directory (waiting for it)."""

    port: int
    data: Path
    log: Path
    binaries: Path

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL of `database` on this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def pg_ctl(self, *args: str) -> None:
        """Run `pg_ctl ARGS` on the cluster (start, stop, `restart -m fast`), waiting for it."""
        subprocess.run(
            [
                str(self.binaries / "pg_ctl"),
                *("-D", str(self.data), "-l", str(self.log), "-w", "-t", "60"),
                *args,
            ],
            check=True,
            capture_output=True,
            **_as_postgres(),
        )


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A fresh cluster (initdb) on a free loopback port, up; stopped and deleted on exit.

    fsync is off: its data is a test's, and a restart's shutdown still writes everything out.
    """
    binaries = programs()
    folder = _server_folder("alpr-cluster-")
    data = folder / "data"
    cluster = Cluster(_free_port(), data, folder / "server.log", binaries)
    try:
        subprocess.run(
            [
                str(binaries / "initdb"),
                *("-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"),
            ],
            check=True,
            capture_output=True,
            **_as_postgres(),
        )
        _configure(folder, data, cluster.port, fsync="off")
        cluster.pg_ctl("start")
        yield cluster
    finally:
        if (data / "postmaster.pid").exists():
            cluster.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(folder, ignore_errors=True)


def _drop_slot(admin_url: str, slot: str) -> None:
    """Drop the replica's slot (if the backup got as far as making it) once it is inactive."""
    primary = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    drop = text(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
        " WHERE slot_name = :slot AND NOT active"
    )
    left = text("SELECT count(*) FROM pg_replication_slots WHERE slot_name = :slot")

    def dropped() -> bool:
        with primary.connect() as conn:
            conn.execute(drop, {"slot": slot})
            return conn.scalar(left, {"slot": slot}) == 0

    try:
        wait_for(dropped, "the replica's slot to be dropped", seconds=30)
    finally:
        primary.dispose()
