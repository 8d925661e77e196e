"""Content-addressed files on disk: images and scanned requests are stored under their SHA-256."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy import Table, delete, false, text
from sqlalchemy.orm import Session

HEX_DIGITS = frozenset("0123456789abcdef")


def content_path(root: str | Path, sha256: str) -> Path:
    """Where the file with this digest lives under `root` (two levels of fan-out)."""
    if len(sha256) != 64 or not HEX_DIGITS.issuperset(sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return Path(root) / sha256[:2] / sha256[2:4] / sha256


def write_atomically(target: Path, data: bytes) -> None:
    """Write to a temporary name beside `target`, fsync, rename, fsync the directory.

    A reader never sees half a file, and a crash leaves nothing under the digest's name. New
    folders are 0700 and the file 0600 (mkstemp's mode): pictures and scans are ALPR data.
    """
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def lock_digest(session: Session, lock_class: int, sha256: str, rows: Table) -> None:
    """Serialise work on one stored file (by digest) until the caller's transaction ends.

    PostgreSQL: an advisory transaction lock on (`lock_class`, the digest). SQLite: the
    database write lock, taken by a write to `rows` that changes nothing, which every writer
    needs anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int(sha256[:8], 16) - 2**31
        session.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :key)"), {"cls": lock_class, "key": key}
        )
    else:
        session.execute(delete(rows).where(false()))
