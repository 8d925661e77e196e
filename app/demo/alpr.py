"""Demo ALPR data: three cameras, the sample hotlist, and ten days of reads with some hits.

The reads go through the real ingest service, so periods of active use, hits and audit
entries are exactly what a camera would have produced. Running the seeder twice adds nothing.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy.orm import Session

from app.alpr.devices import create_deployment, create_device, device_by_serial, end_deployment
from app.alpr.hotlists import MN_PLATE_FILE, load_hotlist, parse_hotlist
from app.alpr.ingest.batch import ingest_reads
from app.alpr.ingest.validation import Limits, validate_reads
from app.bca.services import overdue_notices
from app.core.timeutil import local_today
from app.db import utcnow
from app.demo.accounts import DEMO_ACTOR
from app.reads.models import Device, DeviceKind

SAMPLE_HOTLIST = Path(__file__).resolve().parents[2] / "fixtures" / "hotlist_sample.csv"
#: Winona, MN: where the demo cameras drive and stand.
HOME = (44.0499, -91.6393)
DEMO_DEVICES = (
    ("DEMO-MOBILE-1", DeviceKind.MOBILE, "Squad 12, north patrol"),
    ("DEMO-MOBILE-2", DeviceKind.MOBILE, "Squad 7, downtown"),
    ("DEMO-FIXED-1", DeviceKind.FIXED, "Pole camera"),
)
DAYS = 10
#: About one read in this many is of a listed plate, so the demo has a handful of hits.
HIT_ONE_IN = 25


def _plate(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return "".join(rng.choice(letters) for _ in range(3)) + f"{rng.randrange(1000):03d}"


def _deploy(session: Session, device: Device) -> None:
    today = local_today()
    first = create_deployment(
        session,
        DEMO_ACTOR,
        device,
        location_name="Huff St at Sarnia St",
        latitude=44.0437,
        longitude=-91.6468,
        started_on=today - timedelta(days=DAYS + 2),
        security_information=True,
        security_reason="Camera protects the water treatment plant's gate",
    )
    end_deployment(session, DEMO_ACTOR, first, ended_on=today - timedelta(days=DAYS // 2))
    create_deployment(
        session,
        DEMO_ACTOR,
        device,
        location_name="Hwy 61 at Pelzer St",
        latitude=44.0361,
        longitude=-91.6189,
        started_on=today - timedelta(days=DAYS // 2) + timedelta(days=1),
    )


def _shift(rng: random.Random, device: Device, start, listed: list[str]) -> list[dict]:
    reads, at = [], start
    lat, lon = HOME
    for n in range(rng.randrange(8, 20)):
        at += timedelta(minutes=rng.randrange(1, 12), seconds=rng.randrange(60))
        plate = rng.choice(listed) if rng.randrange(HIT_ONE_IN) == 0 else _plate(rng)
        if device.kind == DeviceKind.MOBILE.value:
            lat, lon = HOME[0] + rng.uniform(-0.03, 0.03), HOME[1] + rng.uniform(-0.05, 0.05)
        reads.append(
            {
                "plate": plate,
                "captured_at": at.isoformat(),
                "latitude": round(lat, 6),
                "longitude": round(lon, 6),
                "client_read_id": f"{device.serial}-{start:%Y%m%d%H%M}-{n}",
            }
        )
    return reads


def seed_alpr(session: Session) -> list[str]:
    """Create the demo cameras, load the sample hotlist, ingest ten days of reads; print tokens."""
    if device_by_serial(session, DEMO_DEVICES[0][0]) is not None:
        return [
            "ALPR demo data already present (devices, hotlist, reads). Device tokens are shown "
            "only when made: get a new one with `scripts/flask devices rotate-token SERIAL`."
        ]
    data = SAMPLE_HOTLIST.read_bytes()
    load_hotlist(session, DEMO_ACTOR, data, source_name=MN_PLATE_FILE)
    listed = [plate for plate, _, _ in parse_hotlist(data)]
    rng = random.Random(425)  # noqa: S311 (demo data, not security)
    limits = Limits.from_config(current_app.config)
    now = utcnow()
    lines = ["Demo device tokens (shown once):"]
    stored = hits = 0
    for serial, kind, description in DEMO_DEVICES:
        device, token = create_device(
            session,
            DEMO_ACTOR,
            serial=serial,
            kind=kind.value,
            description=description,
            installed_on=local_today() - timedelta(days=DAYS + 2),
        )
        lines.append(f"  {serial:14} {token}")
        if kind is DeviceKind.FIXED:
            _deploy(session, device)
        for day in range(DAYS, 0, -1):
            for shift_hour in sorted(rng.sample([7, 11, 15, 19, 22], k=rng.randrange(1, 3))):
                start = (now - timedelta(days=day)).replace(hour=shift_hour, minute=0, second=0)
                batch = validate_reads(_shift(rng, device, start, listed), now=now, limits=limits)
                result = ingest_reads(session, DEMO_ACTOR, batch, device=device)
                stored += result.counts["stored"]
                hits += result.counts["hits"]
    lines.append(f"Demo reads: {stored} stored through the ingest service, {hits} hits.")
    overdue = len(overdue_notices(session, local_today()))
    lines.append(
        f"BCA notices: {overdue} overdue, since the demo cameras were installed {DAYS + 2} days "
        "ago and nobody has notified the BCA yet (425.4.1(d): within 10 days). The Deputy "
        "Chief's home page and `scripts/flask bca list` show them; record each as sent on /bca."
    )
    return lines
