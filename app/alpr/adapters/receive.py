"""A camera's payload, once its adapter has read it: the same ingest as ``POST /api/v1/reads``.

:func:`receive_camera_reads` locates each read (the payload's position, else the camera's
deployment in force), checks it with the JSON API's own validation
(:func:`app.alpr.ingest.validation.validate_reads`), stores it through
:func:`app.alpr.ingest.batch.ingest_reads` (dedupe, ACP screen, hotlist match, periods of
active use, audit) and attaches its pictures, re-encoded without metadata
(:func:`app.reads.images.clean_image`) through the image upload's own step. What the adapter
dropped is counted per device in ``camera_discards`` in the same transaction.

A read is never stored in part. A payload whose time cannot be read, whose position is out of
range or whose picture is broken is refused whole (:class:`AdapterError`, or the ingest's
:class:`IngestRefused`); a read with no plate, with text that is no plate, or captured before
the retention cutoff (it would have to be destroyed at once, 425.5) is not kept and is counted
as a discard, so the camera is not told to resend what can never be stored.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.alpr.adapters.base import (
    INVALID_PLATE,
    NO_PLATE,
    PAST_RETENTION,
    AdapterError,
    CameraRead,
    Extracted,
)
from app.alpr.devices import deployment_in_force
from app.alpr.image_reads import IncomingImage, add_read_images
from app.alpr.ingest.batch import ingest_reads
from app.alpr.ingest.periods import device_actor
from app.alpr.ingest.validation import IngestRefused, Limits, ReadIn, validate_reads
from app.audit.services import PendingEntry
from app.core.timeutil import local_today
from app.reads.bulk import on_postgresql
from app.reads.images import ImageRejected, clean_image
from app.reads.models import CameraDiscard, Device, DeviceKind
from app.reads.plates import FieldError, normalise_plate
from app.retention.policy import retention_cutoff


@dataclass
class CameraOutcome:
    """The answer's counts and why reads were not kept."""

    counts: Counter[str] = field(default_factory=Counter)
    discard_reasons: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        """The counts the route answers with."""
        return {
            "received": self.counts["received"],
            "stored": self.counts["stored"],
            "duplicate": self.counts["duplicate"],
            "discarded": self.counts["discarded"],
            "destroyed_acp": self.counts["destroyed_acp"],
            "hits": self.counts["hits"],
            "discard_reasons": dict(sorted(self.discard_reasons.items())),
        }


def _lawful_plate(read: CameraRead) -> str | None:
    """The plate in the one spelling, or the reason the read cannot be kept."""
    if not read.plate.strip():
        return NO_PLATE
    try:
        normalise_plate(read.plate)
    except FieldError:
        return INVALID_PLATE
    return None


def _located(session: Session, device: Device, read: CameraRead) -> tuple[float, float]:
    """The payload's position, else where the camera's deployment stood that day."""
    if read.latitude is not None and read.longitude is not None:
        return read.latitude, read.longitude
    if device.kind == DeviceKind.FIXED.value:
        day = local_today(read.captured_at)
        deployment = deployment_in_force(session, device.id, day)
        if deployment is None:
            raise IngestRefused(
                409,
                f"the payload has no position and fixed device {device.serial} has no "
                f"deployment in force on {day.isoformat()}: an administrator must record "
                "its location",
            )
        return deployment.latitude, deployment.longitude
    raise AdapterError(
        422,
        f"the payload has no position and {device.serial} is a mobile device: send the "
        "camera's GPS position (a fixed camera's position comes from its deployment)",
    )


def _pictures(read: CameraRead, max_bytes: int) -> list[IncomingImage]:
    """The read's pictures, checked by content and re-encoded with no metadata."""
    pictures = []
    for kind, data in read.images:
        if len(data) > max_bytes:
            raise AdapterError(413, f"the {kind.value} picture is larger than {max_bytes} bytes")
        try:
            clean = clean_image(data, max_bytes=max_bytes)
        except ImageRejected as exc:
            raise AdapterError(422, f"the {kind.value} picture: {exc}") from exc
        pictures.append(IncomingImage(kind, clean.data, clean.info))
    return pictures


def _upsert(dialect: Any) -> Any:
    """One counter's upsert, built once per dialect so its compiled form is cached."""
    table = CameraDiscard.__table__
    stmt = dialect.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.device_id, table.c.field],
        set_={
            "count": table.c.count + stmt.excluded.count,
            "last_discarded_at": stmt.excluded.last_discarded_at,
        },
    )


_UPSERTS = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


def count_discards(
    session: Session, device: Device, discarded: Counter[str], now: datetime
) -> None:
    """Add to the device's discard counters (one statement, many rows), in this transaction."""
    if not discarded:
        return
    rows = [
        {"device_id": device.id, "field": name, "count": count, "last_discarded_at": now}
        for name, count in sorted(discarded.items())
    ]
    session.execute(_UPSERTS["postgresql" if on_postgresql(session) else "sqlite"], rows)


def receive_camera_reads(
    session: Session,
    device: Device,
    extracted: Extracted,
    *,
    now: datetime,
    limits: Limits,
    gap_minutes: int,
    image_max_bytes: int,
    written: list[str],
) -> CameraOutcome:
    """Store what an adapter extracted from a device's payload; see the module docstring.

    Flushes; the caller commits, or rolls back and removes the files named in `written`
    (each picture's digest is added before its file is written).
    """
    outcome = CameraOutcome()
    outcome.counts["received"] = len(extracted.reads) + sum(extracted.skipped.values())
    reasons = Counter(extracted.skipped)
    cutoff = retention_cutoff(now, limits.retention_days)
    kept: list[CameraRead] = []
    for read in extracted.reads:
        reason = _lawful_plate(read)
        if reason is None and read.captured_at < cutoff:
            reason = PAST_RETENTION
        if reason is None:
            kept.append(read)
        else:
            reasons[reason] += 1
    items = []
    for read in kept:
        latitude, longitude = _located(session, device, read)
        item = {
            "plate": read.plate,
            "captured_at": read.captured_at.isoformat(),
            "latitude": latitude,
            "longitude": longitude,
        }
        if read.source_id:
            item["client_read_id"] = read.source_id
        items.append(item)
    pictures = [_pictures(read, image_max_bytes) for read in kept]
    outcome.discard_reasons = reasons
    outcome.counts["discarded"] = sum(reasons.values())
    # Before the ingest: its audit append serialises every writer until the commit, so
    # nothing may follow it (app.alpr.ingest.batch).
    device.last_seen_at = now
    count_discards(session, device, extracted.discarded + reasons, now)
    if items:
        reads_in = validate_reads(items, now=now, limits=limits)

        def attach(stored: list[tuple[ReadIn, int]]) -> list[PendingEntry]:
            """Each stored read's pictures, audited in the batch's one append."""
            entries = []
            for read, read_id in stored:
                images = pictures[read.index]
                if images:
                    written.extend(image.info.sha256 for image in images)
                    key = (read_id, read.captured_at)
                    entries.append(add_read_images(session, device, key, images))
            return entries

        result = ingest_reads(
            session,
            device_actor(device),
            reads_in,
            device=device,
            gap_minutes=gap_minutes,
            attach=attach,
        )
        for key in ("stored", "duplicate", "destroyed_acp", "hits"):
            outcome.counts[key] = result.counts[key]
    return outcome
