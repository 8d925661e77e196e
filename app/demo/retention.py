"""Demo retention data: reads aged past 60 days, some held by the demo investigation.

After ``scripts/flask retention purge`` the held reads survive and the rest are gone, so
the dashboard's compliance line reads zero on demo data.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alpr.devices import create_device, device_by_serial
from app.audit.actions import AuditAction
from app.audit.services import record
from app.core.timeutil import local_today
from app.db import utcnow
from app.demo.accounts import DEMO_ACTOR
from app.demo.investigations import ACTIVE_CASE
from app.investigations.services import investigation_by_case_number, open_investigation
from app.reads.models import DeviceKind, Read
from app.retention.holds import place_hold

MARK = "RETENTION-DEMO-"
HELD_PLATE = "HLD811"
DEVICE_SERIAL = "DEMO-MOBILE-1"
AGED = 30  # reads between 61 and 90 days old
HELD = 6


def seed_retention(session: Session) -> list[str]:
    """Aged reads (most unheld, a few held by the active demo case), once."""
    if session.scalars(select(Read.id).where(Read.client_read_id.like(f"{MARK}%"))).first():
        return ["Demo retention data already present."]
    device = (
        device_by_serial(session, DEVICE_SERIAL)
        or create_device(
            session, DEMO_ACTOR, serial=DEVICE_SERIAL, kind=DeviceKind.MOBILE, description="Squad"
        )[0]
    )
    case = investigation_by_case_number(session, ACTIVE_CASE) or open_investigation(
        session,
        DEMO_ACTOR,
        case_number=ACTIVE_CASE,
        title="Burglary series",
        opened_on=local_today() - timedelta(days=120),
    )
    now = utcnow()
    for n in range(AGED + HELD):
        held = n >= AGED
        session.add(
            Read(
                device_id=device.id,
                plate=HELD_PLATE if held else f"OLD{n:03d}",
                captured_at=now - timedelta(days=61 + n % 29, hours=n),
                latitude=44.0499,
                longitude=-91.6393,
                client_read_id=f"{MARK}{n}",
            )
        )
    session.flush()
    record(session, DEMO_ACTOR, AuditAction.READS_IMPORTED, None, {"reads": AGED + HELD})
    place_hold(
        session,
        DEMO_ACTOR,
        case,
        now - timedelta(days=95),
        now - timedelta(days=55),
        plates=[HELD_PLATE],
        description="Suspect vehicle seen near the burglaries (demo).",
    )
    return [
        f"Retention demo: {AGED + HELD} reads aged past 60 days ({HELD} held by case "
        f"{case.case_number}). Until the purge runs (daily at 00:05 UTC, or now with "
        "`scripts/flask retention purge`) the Deputy Chief's home page shows the compliance "
        f"counter 'reads kept past retention' at {AGED}: that is the demo's point. After the "
        "purge it reads 0 and only the held reads remain."
    ]
