"""Demo reads with pictures: a camera-read plate, OCR-read plates, and one for the review queue.

Pictures come from ``fixtures/plates/*.png`` (the OCR fixtures) when present, else are drawn
here. They go through the same services as an upload and the OCR job. Runs after the ALPR demo
seeder (its cameras are looked up by serial; without them nothing is added). Idempotent.
"""

from __future__ import annotations

import dataclasses
import io
from datetime import timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alpr.devices import device_by_serial
from app.alpr.image_reads import IncomingImage, receive_image_read, record_ocr_result
from app.alpr.ingest.validation import ReadIn
from app.db import utcnow
from app.demo.alpr import DEMO_DEVICES, HOME
from app.reads.images import clean_image
from app.reads.models import ImageKind, Read

PLATE_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "plates"
#: Drawn when the OCR fixtures are absent.
DRAWN_PLATES = ("KTR482", "BXN905", "HJL317", "MPC660")
CLIENT_PREFIX = "DEMO-IMG-"
MAX_BYTES = 5 * 1024 * 1024


def _drawn(text: str) -> bytes:
    image = Image.new("RGB", (480, 240), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((6, 6, 473, 233), outline="black", width=6)
    draw.text((240, 120), text, fill="black", font=ImageFont.load_default(96), anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def demo_pictures() -> list[bytes]:
    """Up to four plate pictures: the OCR fixtures when present, else drawn ones."""
    files = sorted(PLATE_FIXTURES.glob("*.png"))[:4] if PLATE_FIXTURES.is_dir() else []
    if files:
        return [path.read_bytes() for path in files]
    return [_drawn(text) for text in DRAWN_PLATES]


def seed_image_reads(session: Session) -> list[str]:
    """Store four reads with pictures from the first demo camera; one waits for review."""
    device = device_by_serial(session, DEMO_DEVICES[0][0])
    if device is None:
        return ["No demo camera yet: image reads not seeded."]
    if session.scalars(
        select(Read.id).where(Read.client_read_id.like(f"{CLIENT_PREFIX}%"))
    ).first():
        return ["Demo image reads already present."]
    from app.alpr.ocr.pipeline import read_plate  # OpenCV loads only when seeding pictures

    now = utcnow()
    statuses = []
    for n, data in enumerate(demo_pictures()):
        kind = ImageKind.PLATE
        clean = clean_image(data, max_bytes=MAX_BYTES)
        image = IncomingImage(kind, clean.data, clean.info)
        base = ReadIn(
            index=0,
            plate="",
            captured_at=now - timedelta(hours=3, minutes=7 * n),
            latitude=HOME[0] + 0.002 * n,
            longitude=HOME[1] - 0.003 * n,
            client_read_id=f"{CLIENT_PREFIX}{n}",
        )
        result = read_plate(data, cropped=True)
        if n == 0 and result.plate:  # a camera that read the plate itself
            outcome = receive_image_read(
                session,
                device,
                dataclasses.replace(base, plate=result.plate),
                [image],
                gap_minutes=30,
            )
        else:
            outcome = receive_image_read(session, device, base, [image], gap_minutes=30)
            if outcome.read is not None:
                if n == 1:  # shown in the review queue whatever the engines made of it
                    result = dataclasses.replace(
                        result, confidence=min(result.confidence, 0.6), needs_review=True
                    )
                record_ocr_result(session, outcome.read, result, kind)
        if outcome.read is not None:
            statuses.append(outcome.read.plate_status)
    return [f"Demo image reads: {len(statuses)} stored ({', '.join(statuses)})."]
