"""The destruction ledger: every destruction of reads, written to a file outside the database.

A backup of the database is a copy of reads as they were. Restored, it would bring back every
read destroyed since (by the purge, an ACP request, OCR meeting a suppressed plate) and forget
the keyed digests that make a destroyed read's resend known. The ledger is what the restore
re-applies (:mod:`app.retention.backups`): it survives the restore because it is not in the
database, and it names reads only by id and capture time, never by plate.

An entry is appended (and fsynced) in the destroying transaction, before its commit: a
transaction that then rolls back leaves an entry for reads that still exist, which a restore
destroys a little early (they were being destroyed); a commit never goes unrecorded.

One JSON object a line:

- ``{"kind": "reads", "at": ..., "ids": [...], "from": ..., "to": ...}``: rows deleted, all
  captured between ``from`` and ``to`` (inclusive). The range keeps a later read that reuses an
  id (a restored database's sequences start again from the backup's) out of it: such a read is
  captured after the restore, so after the destruction and after ``to``. Plain ids keep the
  ledger's cost small beside the deletion's (no timestamp a row).
- ``{"kind": "day", "at": ..., "start": ..., "end": ..., "kept": [[id, captured_at], ...]}``:
  a day partition swapped out; every read captured in [start, end) but those kept is gone.
- ``{"kind": "acp_digests", "at": ..., "digests": [[key_hmac, captured_at], ...]}``: keyed
  digests of ACP-destroyed reads (app.retention.models.AcpDestroyedRead).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.core.storage import write_atomically
from app.db import settings_of, utcnow


def ledger_path(session: Session) -> Path | None:
    """The installation's ledger file (None only for sessions made without one)."""
    path = settings_of(session).destruction_ledger
    return Path(path) if path else None


def _stamp(at: datetime) -> str:
    return at.isoformat()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold the ledger's lock file: appends and a prune's rewrite never interleave."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def append(path: Path | None, kind: str, **payload: Any) -> None:
    """Append one entry durably: one write under the lock, then fsync."""
    if path is None:
        return
    line = json.dumps({"kind": kind, "at": _stamp(utcnow()), **payload}, separators=(",", ":"))
    with _locked(path):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)


def record_reads(session: Session, ids: list[int], earliest: datetime, latest: datetime) -> None:
    """Ledger the reads this transaction deletes, all captured from `earliest` to `latest`."""
    if ids:
        append(
            ledger_path(session),
            "reads",
            ids=ids,
            **{"from": _stamp(earliest), "to": _stamp(latest)},
        )


def record_day(
    session: Session, start: datetime, end: datetime, kept: Iterable[tuple[int, datetime]]
) -> None:
    """Ledger a day swapped out: every read in [start, end) but `kept` is destroyed."""
    append(
        ledger_path(session),
        "day",
        start=_stamp(start),
        end=_stamp(end),
        kept=[[read_id, _stamp(at)] for read_id, at in kept],
    )


def record_acp_digests(session: Session, digests: dict[str, datetime]) -> None:
    """Ledger the keyed digests of ACP-destroyed reads (never a plate)."""
    if digests:
        rows = [[key, _stamp(at)] for key, at in sorted(digests.items())]
        append(ledger_path(session), "acp_digests", digests=rows)


def entries(path: Path) -> Iterator[dict[str, Any]]:
    """Every complete entry, oldest first (a torn last line from a crash is skipped)."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def prune(path: Path, before: datetime) -> int:
    """Drop entries older than `before` (no backup that old remains); count those dropped.

    The kept entries go to a new file that replaces the ledger in one rename: a crash leaves
    the old ledger or the new one, never half of either.
    """
    if not path.exists():
        return 0
    with _locked(path):
        kept = [entry for entry in entries(path) if datetime.fromisoformat(entry["at"]) >= before]
        dropped = sum(1 for _ in entries(path)) - len(kept)
        if dropped:
            text = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in kept)
            write_atomically(path, text.encode())
    return dropped
