"""Backups that keep the retention rule (425.5): made, pruned and restored without resurrecting.

A backup is a copy of the database (``pg_dump`` custom format on PostgreSQL, the SQLite backup
API otherwise) under the backup folder, owner-only. None is kept longer than the retention
period: every backup made prunes those older (:func:`prune_backups`), and the destruction
ledger's entries with them.

A restore puts the database back as it was (migrated to this code's schema), then, before
anyone is served, re-applies every destruction recorded since in the destruction ledger
(:mod:`app.retention.ledger`): reads deleted by the purge, a day partition swapped out, an ACP
request or OCR, and the keyed digests of ACP-destroyed reads. Then it runs the purge, removes
the pictures no restored row references (the image store is not in the backup: pictures of
reads made after the backup, lost with them) and records what it did on the audit chain.
While it works a ``restore-pending`` marker in the instance folder makes the app answer 503
to every request.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from glob import glob
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, func, make_url, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.core.storage import content_path
from app.db import settings_of, utcnow
from app.reads.models import Read, ReadImage
from app.retention import ledger
from app.retention.destruction import delete_reads, finish_tombstones
from app.retention.models import AcpDestroyedRead
from app.retention.purge import destroy_expired_reads

SessionFactory = Callable[[], Session]

BACKUP_ACTOR = "system:backup"
RESTORE_MARKER = "restore-pending"
#: alpr-20261205T031700Z.dump (PostgreSQL) or .sqlite3: the name carries when it was taken.
BACKUP_NAME = re.compile(r"^alpr-(\d{8}T\d{6}Z)\.(dump|sqlite3)$")
REAPPLY_BATCH = 10_000


class BackupError(Exception):
    """A backup or restore that cannot be done as asked (message for the operator)."""


def backup_time(path: Path) -> datetime | None:
    """When a backup was taken, from its name; None for a file that is not one."""
    match = BACKUP_NAME.match(path.name)
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def list_backups(folder: Path) -> list[tuple[datetime, Path]]:
    """The backups in `folder`, oldest first."""
    if not folder.is_dir():
        return []
    found = [(backup_time(path), path) for path in folder.iterdir()]
    return sorted((taken, path) for taken, path in found if taken is not None)


def pg_tool(name: str) -> str:
    """A PostgreSQL client program: on PATH, else the newest Debian cluster's."""
    found = shutil.which(name) or next(
        iter(sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client programs")
    return found


def _pg_environment(database_url: str) -> dict[str, str]:
    """The connection for libpq in the environment: no password shows in a process list."""
    url = make_url(database_url)
    settings = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }
    return {**os.environ, **{k: v for k, v in settings.items() if v}}


def _sqlite_file(database_url: str) -> Path:
    return Path(make_url(database_url).database or "")


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy one SQLite database over another through the backup API (consistent, atomic)."""
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)


def create_backup(
    session_factory: SessionFactory,
    database_url: str,
    folder: Path,
    now: datetime | None = None,
) -> Path:
    """Take a backup into `folder` (0700; the file 0600); audited once it is complete."""
    now = now or utcnow()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    postgres = database_url.startswith("postgresql")
    name = f"alpr-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.{'dump' if postgres else 'sqlite3'}"
    target = folder / name
    incoming = folder / f".incoming-{name}"
    fd = os.open(incoming, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    try:
        if postgres:
            _run(
                [pg_tool("pg_dump"), "--format=custom", "--file", str(incoming)],
                _pg_environment(database_url),
            )
        else:
            _sqlite_copy(_sqlite_file(database_url), incoming)
        os.chmod(incoming, 0o600)
        os.replace(incoming, target)
    except BaseException:
        incoming.unlink(missing_ok=True)
        raise
    with session_factory() as session:
        record(session, BACKUP_ACTOR, AuditAction.BACKUP_CREATED, None, {"backup": name})
        session.commit()
    return target


def _run(command: list[str], environment: dict[str, str], **kwargs: Any) -> None:
    result = subprocess.run(  # noqa: S603 (our own arguments, no shell)
        command, env=environment, capture_output=True, check=False, **kwargs
    )
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace") if result.stderr else ""
        raise BackupError(f"{Path(command[0]).name} failed: {stderr.strip()[-2000:]}")


def prune_backups(
    session_factory: SessionFactory,
    folder: Path,
    ledger_file: Path,
    retention_days: int,
    now: datetime | None = None,
) -> list[str]:
    """Delete the backups older than the retention period, and ledger entries as old; audited.

    A backup holds reads up to the retention period old when taken; kept longer it would be a
    second, unpurged copy of them. The ledger needs nothing older than the oldest backup kept.
    """
    now = now or utcnow()
    oldest_allowed = now - timedelta(days=retention_days)
    removed = []
    for taken, path in list_backups(folder):
        if taken < oldest_allowed:
            path.unlink(missing_ok=True)
            removed.append(path.name)
    dropped = ledger.prune(ledger_file, oldest_allowed)
    if removed or dropped:
        with session_factory() as session:
            record(
                session,
                BACKUP_ACTOR,
                AuditAction.BACKUPS_PRUNED,
                None,
                {
                    "backups": removed,
                    "ledger_entries": dropped,
                    "before": oldest_allowed.isoformat(),
                },
            )
            session.commit()
    return removed


@dataclass
class RestoreResult:
    """What a restore re-applied and removed (counts, never plates)."""

    backup: str
    reads_destroyed_again: int = 0
    acp_digests_restored: int = 0
    purge_run_id: int | None = None
    purged_reads: int = 0
    orphan_files_removed: int = 0
    missing_files: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the CLI and the audit entry."""
        return asdict(self)


def restore_pending(instance_path: str | Path) -> bool:
    """Whether a restore has not finished: the app then serves nobody."""
    return (Path(instance_path) / RESTORE_MARKER).exists()


def _replace_database(backup: Path, database_url: str, engine: Engine) -> None:
    """Put the backup in place of the database, in one transaction (PostgreSQL) or copy."""
    engine.dispose()
    if database_url.startswith("postgresql"):
        if backup.suffix != ".dump":
            raise BackupError("a PostgreSQL database restores from a .dump backup")
        environment = _pg_environment(database_url)
        script = subprocess.run(  # noqa: S603
            [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(backup)],
            env=environment,
            capture_output=True,
            check=False,
        )
        if script.returncode != 0:
            raise BackupError(f"pg_restore failed: {script.stderr.decode(errors='replace')}")
        _run(
            [
                pg_tool("psql"),
                "--no-psqlrc",
                "--quiet",
                "--set=ON_ERROR_STOP=1",
                "--single-transaction",
                "--command=DROP SCHEMA public CASCADE",
                "--command=CREATE SCHEMA public",
                "--file=-",
            ],
            environment,
            input=script.stdout,
        )
    else:
        if backup.suffix != ".sqlite3":
            raise BackupError("a SQLite database restores from a .sqlite3 backup")
        _sqlite_copy(backup, _sqlite_file(database_url))
    engine.dispose()


def upgrade_schema(database_url: str) -> None:
    """Bring a restored database to this code's schema (`alembic upgrade head`) before use."""
    from alembic import command
    from alembic.config import Config

    beside_code = Path(__file__).resolve().parents[2] / "alembic.ini"
    # An installed package runs from the checkout's folder (`flask --app wsgi` needs it too).
    config = Config(str(beside_code if beside_code.exists() else Path("alembic.ini")))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def _present(session: Session, ids: list[int], earliest: datetime, latest: datetime) -> list[int]:
    """Which of these reads, captured from `earliest` to `latest`, the database holds."""
    found: list[int] = []
    for start in range(0, len(ids), REAPPLY_BATCH):
        found.extend(
            session.scalars(
                select(Read.id).where(
                    Read.id.in_(ids[start : start + REAPPLY_BATCH]),
                    Read.captured_at >= earliest,
                    Read.captured_at <= latest,
                )
            )
        )
    return found


def _pairs(rows: Iterable[list[Any]]) -> list[tuple[int, datetime]]:
    return [(int(read_id), datetime.fromisoformat(at)) for read_id, at in rows]


def _destroy_again(session_factory: SessionFactory, ids: list[int]) -> int:
    """Delete these reads again, a batch a transaction, their files after each commit."""
    destroyed = 0
    for start in range(0, len(ids), REAPPLY_BATCH):
        with session_factory() as session:
            deleted = delete_reads(session, ids[start : start + REAPPLY_BATCH], BACKUP_ACTOR)
            session.commit()
        destroyed += deleted.reads
        finish_tombstones(session_factory, set(deleted.orphans))
    return destroyed


def reapply_destructions(
    session_factory: SessionFactory, entries: list[dict[str, Any]], result: RestoreResult
) -> None:
    """Destroy again what the ledger says was destroyed; restore the ACP digests."""
    batches: list[tuple[list[int], datetime, datetime]] = []
    digests: dict[str, datetime] = {}
    days: list[tuple[datetime, datetime, set[tuple[int, datetime]]]] = []
    for entry in entries:
        if entry["kind"] == "reads":
            span = (datetime.fromisoformat(entry[k]) for k in ("from", "to"))
            batches.append(([int(i) for i in entry["ids"]], *span))
        elif entry["kind"] == "day":
            start, end = (datetime.fromisoformat(entry[k]) for k in ("start", "end"))
            days.append((start, end, set(_pairs(entry["kept"]))))
        elif entry["kind"] == "acp_digests":
            digests.update({key: datetime.fromisoformat(at) for key, at in entry["digests"]})
    with session_factory() as session:
        ids = [found for batch in batches for found in _present(session, *batch)]
        for start, end, kept in days:
            in_day = session.execute(
                select(Read.id, Read.captured_at).where(
                    and_(Read.captured_at >= start, Read.captured_at < end)
                )
            ).tuples()
            ids.extend(read_id for read_id, at in in_day if (read_id, at) not in kept)
        if digests:
            insert = (
                postgresql.insert
                if session.get_bind().dialect.name == "postgresql"
                else (sqlite.insert)
            )
            existing = session.scalar(select(func.count()).select_from(AcpDestroyedRead))
            rows = [{"key_hmac": k, "captured_at": at} for k, at in sorted(digests.items())]
            for start in range(0, len(rows), REAPPLY_BATCH):
                session.execute(
                    insert(AcpDestroyedRead)
                    .values(rows[start : start + REAPPLY_BATCH])
                    .on_conflict_do_nothing(index_elements=["key_hmac"])
                )
            after = session.scalar(select(func.count()).select_from(AcpDestroyedRead))
            result.acp_digests_restored = (after or 0) - (existing or 0)
        session.commit()
    result.reads_destroyed_again = _destroy_again(session_factory, sorted(set(ids)))


def _stored_digests(image_store: Path) -> Iterable[str]:
    """The digests of the files under the image store (its two-level fan-out)."""
    for path in image_store.glob("??/??/*"):
        if path.is_file() and len(path.name) == 64:
            yield path.name


def match_image_store(session_factory: SessionFactory, result: RestoreResult) -> None:
    """Remove pictures no restored row references; count rows whose picture is missing."""
    with session_factory() as session:
        store = Path(settings_of(session).image_store)
        referenced = set(session.scalars(select(ReadImage.sha256).distinct()))
    for digest in set(_stored_digests(store)) - referenced:
        content_path(store, digest).unlink(missing_ok=True)
        result.orphan_files_removed += 1
    result.missing_files = sum(not content_path(store, digest).exists() for digest in referenced)


def restore_backup(
    backup: Path,
    *,
    database_url: str,
    engine: Engine,
    session_factory: SessionFactory,
    ledger_file: Path,
    instance_path: Path,
    retention_days: int,
    batch_size: int,
) -> RestoreResult:
    """Restore `backup`, re-apply every destruction since, purge, match the image store.

    The marker goes first and comes off last: an app started meanwhile serves nobody, and a
    restore that dies half-way leaves the marker until it is run again to the end.
    """
    taken = backup_time(backup)
    if taken is None or not backup.is_file():
        raise BackupError(f"{backup} is not a backup made by `backup create`")
    marker = instance_path / RESTORE_MARKER
    marker.write_text(backup.name)
    entries = list(ledger.entries(ledger_file))
    _replace_database(backup, database_url, engine)
    upgrade_schema(database_url)
    engine.dispose()
    result = RestoreResult(backup=backup.name)
    reapply_destructions(session_factory, entries, result)
    purge = destroy_expired_reads(
        session_factory, BACKUP_ACTOR, batch_size=batch_size, retention_days=retention_days
    )
    result.purge_run_id, result.purged_reads = purge.run_id, purge.reads_destroyed
    match_image_store(session_factory, result)
    with session_factory() as session:
        record(
            session,
            BACKUP_ACTOR,
            AuditAction.BACKUP_RESTORED,
            None,
            {**result.as_dict(), "taken_at": taken.isoformat()},
        )
        session.commit()
    marker.unlink()
    return result
