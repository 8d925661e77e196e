"""Helpers shared by the retention tests: aged reads, pictures on disk, running the purge."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.reads.images import image_path
from app.reads.models import Read, ReadImage
from app.retention.purge import PurgeResult, destroy_expired_reads
from tests.factories import ReadFactory


def aged_read(days: float, **fields: object) -> Read:
    """A read captured `days` ago."""
    return ReadFactory(captured_at=utcnow() - timedelta(days=days), **fields)


def add_image(
    session: Session, read: Read, kind: str = "plate", content: bytes | None = None
) -> str:
    """Attach a picture to `read` with its file in the image store; returns its digest."""
    data = content if content is not None else f"picture of read {read.id} {kind}".encode()
    digest = hashlib.sha256(data).hexdigest()
    path = image_path(digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    session.add(
        ReadImage(
            read=read,
            kind=kind,
            sha256=digest,
            content_type="image/jpeg",
            byte_size=len(data),
            width=10,
            height=10,
        )
    )
    session.commit()
    return digest


def run_purge(
    app: Flask, now: datetime | None = None, batch_size: int = 1000, **kwargs: object
) -> PurgeResult:
    """The real purge service on the test database."""
    return destroy_expired_reads(
        app.extensions["alpr_sessionmaker"],
        "system:purge",
        now or utcnow(),
        batch_size,
        retention_days=kwargs.pop("retention_days", app.config["RETENTION_DAYS"]),
        **kwargs,  # type: ignore[arg-type]
    )


def surviving_ids(session: Session) -> set[int]:
    """Ids of the reads still stored (a fresh snapshot, not the session's cache)."""
    session.commit()
    return set(session.scalars(select(Read.id)))


def dangling_images(session: Session) -> list[str]:
    """Digests of image rows whose file is missing: must always be empty."""
    session.commit()
    return [d for d in session.scalars(select(ReadImage.sha256)) if not image_path(d).exists()]


def orphan_files(app: Flask, session: Session) -> list[Path]:
    """Image files no row references: must be empty after a completed purge."""
    session.commit()
    referenced = set(session.scalars(select(ReadImage.sha256)))
    store = Path(app.config["IMAGE_STORE"])
    if not store.exists():
        return []
    return [p for p in store.rglob("*") if p.is_file() and p.name not in referenced]
