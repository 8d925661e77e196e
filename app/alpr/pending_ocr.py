"""Reads waiting for OCR, shown to staff with their age (a stuck queue must be seen).

An image-only read stays ``pending_ocr`` until its OCR job runs; while it waits it is matched
against no hotlist and screened for no ACP plate. When Redis was down or a worker died, the
recovery sweep puts the job back (workers.recovery); this page and the home page's count are
how a person notices that reads are still waiting. No plate is shown: a pending read has none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import User
from app.db import utcnow
from app.reads.models import Device, PlateStatus, Read

PENDING_PAGE_SIZE = 50
PENDING = Read.plate_status == PlateStatus.PENDING_OCR.value


@dataclass(frozen=True)
class PendingRead:
    """One read waiting: what it is (never a plate), and for how long it has waited."""

    read_id: int
    device: str | None
    captured_at: datetime
    received_at: datetime
    waiting: timedelta

    @property
    def age(self) -> str:
        """How long it has waited, for people."""
        return age_text(self.waiting)


@dataclass(frozen=True)
class PendingPage:
    """A page of the waiting reads, oldest first."""

    rows: list[PendingRead]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class PendingSummary:
    """How many reads wait for OCR and how long the oldest has waited."""

    count: int
    oldest_waiting: timedelta

    @property
    def oldest_age(self) -> str:
        """How long the oldest has waited, for people."""
        return age_text(self.oldest_waiting)


def age_text(waited: timedelta) -> str:
    """A wait in its two largest units: "2 d 3 h", "4 h 12 min", "7 min", "under a minute"."""
    minutes = max(0, int(waited.total_seconds())) // 60
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else "under a minute"


def pending_ocr_summary(session: Session, now: datetime | None = None) -> PendingSummary | None:
    """The count and the oldest wait, or None when nothing waits (counts only: not audited)."""
    count, oldest = session.execute(
        select(func.count(), func.min(Read.received_at)).where(PENDING)
    ).one()
    if not count:
        return None
    return PendingSummary(count, (now or utcnow()) - oldest)


def pending_ocr_page(
    session: Session, actor: User, page: int, now: datetime | None = None
) -> PendingPage:
    """Page `page` of the reads waiting for OCR, oldest first; showing it is audited.

    A page before the first is the first and one past the last is the last, as on the other
    lists: the queue shrinks as OCR runs, so a link to its last page soon points past it.
    """
    now = now or utcnow()
    total = session.scalar(select(func.count()).where(PENDING)) or 0
    pages = max(1, math.ceil(total / PENDING_PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = session.execute(
        select(Read.id, Device.serial, Read.captured_at, Read.received_at)
        .outerjoin(Device, Device.id == Read.device_id)
        .where(PENDING)
        .order_by(Read.received_at, Read.id)
        .limit(PENDING_PAGE_SIZE)
        .offset((page - 1) * PENDING_PAGE_SIZE)
    ).all()
    found = [
        PendingRead(read_id, serial, captured, received, now - received)
        for read_id, serial, captured, received in rows
    ]
    record(
        session,
        actor,
        AuditAction.PENDING_OCR_VIEWED,
        None,
        {"page": page, "result_count": len(found), "read_ids": [r.read_id for r in found]},
    )
    return PendingPage(found, page, pages, total)
