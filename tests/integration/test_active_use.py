"""Periods of active use (425.5.1): kept incrementally at ingest, never recomputed from reads."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from app.alpr.devices import create_deployment, create_device
from app.alpr.hotlists import load_hotlist
from app.alpr.ingest.batch import ingest_reads
from app.alpr.ingest.validation import IngestRefused, ReadIn
from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.core.timeutil import local_today
from app.db import utcnow
from app.reads.models import ActiveUsePeriod, Read
from tests.factories import InvestigationFactory

GAP = 30


@pytest.fixture
def camera(session):
    device, _ = create_device(session, "test", serial="CAM-P", kind="mobile")
    session.commit()
    return device


def reads_at(base, minutes: list[int], plates: list[str] | None = None) -> list[ReadIn]:
    plates = plates or [f"P{i:04d}" for i in range(len(minutes))]
    return [
        ReadIn(i, plate, base + timedelta(minutes=m), 44.05, -91.64)
        for i, (m, plate) in enumerate(zip(minutes, plates, strict=True))
    ]


def ingest(session, device, reads):
    result = ingest_reads(session, "test", reads, device=device, gap_minutes=GAP)
    session.commit()
    return result


def periods(session, device):
    session.rollback()
    return session.scalars(
        select(ActiveUsePeriod)
        .where(ActiveUsePeriod.device_id == device.id)
        .order_by(ActiveUsePeriod.started_at)
    ).all()


def test_reads_closer_than_the_gap_extend_one_period_and_a_longer_gap_opens_another(
    session, camera
):
    base = utcnow() - timedelta(hours=6)
    ingest(session, camera, reads_at(base, [0, 10, 39]))
    ingest(session, camera, reads_at(base, [60], ["LATER1"]))  # 21 minutes after the last
    ingest(session, camera, reads_at(base, [95], ["GAP1"]))  # 35 minutes after: a new period
    first, second = periods(session, camera)
    assert (first.started_at, first.ended_at) == (base, base + timedelta(minutes=60))
    assert first.plates_read == 4
    assert (second.started_at, second.ended_at, second.plates_read) == (
        base + timedelta(minutes=95),
        base + timedelta(minutes=95),
        1,
    )
    read_periods = dict(session.execute(select(Read.plate, Read.active_use_period_id)).all())
    assert read_periods["LATER1"] == first.id and read_periods["GAP1"] == second.id


def test_one_batch_spanning_a_gap_splits_into_two_periods(session, camera):
    base = utcnow() - timedelta(hours=3)
    result = ingest(session, camera, reads_at(base, [25, 0, 5, 90]))
    found = periods(session, camera)
    assert [p.plates_read for p in found] == [3, 1]
    assert sorted(result.period_ids) == sorted(p.id for p in found)


def test_a_late_read_before_a_period_extends_its_start(session, camera):
    base = utcnow() - timedelta(hours=3)
    ingest(session, camera, reads_at(base, [40, 50]))
    ingest(session, camera, reads_at(base, [15], ["EARLY1"]))
    (period,) = periods(session, camera)
    assert period.started_at == base + timedelta(minutes=15) and period.plates_read == 3


def test_a_late_read_bridging_two_periods_joins_them_counts_and_reads_and_all(session, camera):
    load_hotlist(session, "test", b"plate,category\nW1,warrant\nSV1,stolen_vehicle\n")
    session.commit()
    base = utcnow() - timedelta(hours=4)
    ingest(session, camera, reads_at(base, [0, 5], ["W1", "EARLY2"]))
    ingest(session, camera, reads_at(base, [45, 50], ["SV1", "LATE2"]))  # 40 minutes later
    first, second = periods(session, camera)
    ingest(session, camera, reads_at(base, [25], ["BRIDGE1"]))  # 20 minutes from each

    (joined,) = periods(session, camera)
    assert joined.id == first.id
    assert (joined.started_at, joined.ended_at) == (base, base + timedelta(minutes=50))
    assert joined.plates_read == 5
    assert (joined.hits_warrant, joined.hits_stolen) == (1, 1)
    assert json.loads(joined.sources_compared) == ["mn_plate_file"]
    assert set(session.scalars(select(Read.active_use_period_id))) == {joined.id}
    (entry,) = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.ACTIVE_USE_PERIODS_JOINED.value)
    ).all()
    assert entry.subject_id == str(joined.id)
    assert json.loads(entry.detail.details_json)["joined_period_id"] == second.id


def test_a_batch_filling_the_gaps_between_three_periods_leaves_one(session, camera):
    base = utcnow() - timedelta(hours=5)
    for minute in (0, 40, 80):
        ingest(session, camera, reads_at(base, [minute], [f"AT{minute}"]))
    assert len(periods(session, camera)) == 3
    ingest(session, camera, reads_at(base, [20, 60], ["FILL1", "FILL2"]))
    (joined,) = periods(session, camera)
    assert joined.plates_read == 5
    assert set(session.scalars(select(Read.active_use_period_id))) == {joined.id}


def test_a_batch_reaching_back_to_a_stored_period_keeps_that_period(session, camera):
    base = utcnow() - timedelta(hours=5)
    ingest(session, camera, reads_at(base, [60], ["KEPT1"]))
    (stored,) = periods(session, camera)
    ingest(session, camera, reads_at(base, [0, 20, 40], ["NEW1", "NEW2", "NEW3"]))
    (joined,) = periods(session, camera)
    assert joined.id == stored.id and joined.plates_read == 4
    assert joined.started_at == base
    assert set(session.scalars(select(Read.active_use_period_id))) == {stored.id}


def test_counts_hits_by_category_and_the_lists_compared(session, camera):
    investigation = InvestigationFactory()
    load_hotlist(
        session,
        "test",
        b"plate,category\nSV1,stolen_vehicle\nSP1,stolen_plate\nW1,warrant\nSR1,suspended_revoked\n"
        b"SV2,stolen_vehicle\nSV2,stolen_plate\n",
    )
    load_hotlist(
        session,
        "test",
        b"plate,category\nINV1,investigative\n",
        source_name="burglary ring",
        case_number=investigation.case_number,
    )
    session.commit()
    base = utcnow() - timedelta(hours=2)
    ingest(
        session,
        camera,
        reads_at(base, [0, 1, 2, 3, 4, 5, 6], ["SV1", "SP1", "W1", "SR1", "INV1", "SV2", "NONE1"]),
    )
    (period,) = periods(session, camera)
    assert period.plates_read == 7
    # SV2 is on the stolen list twice (vehicle and plate): one stolen plate in the log.
    assert (period.hits_stolen, period.hits_warrant) == (3, 1)
    assert (period.hits_suspended_revoked, period.hits_investigative) == (1, 1)
    assert json.loads(period.sources_compared) == ["burglary ring", "mn_plate_file"]


def test_counts_outlive_the_reads_they_count(session, camera):
    base = utcnow() - timedelta(hours=2)
    ingest(session, camera, reads_at(base, [0, 1, 2]))
    session.execute(delete(Read))
    session.commit()
    ingest(session, camera, reads_at(base, [3], ["MORE1"]))
    (period,) = periods(session, camera)
    assert period.plates_read == 4


def test_first_use_is_recorded_once_and_corrected_by_an_earlier_late_read(session, camera):
    base = utcnow() - timedelta(hours=5)
    ingest(session, camera, reads_at(base, [30, 10]))
    session.rollback()
    assert camera.first_used_at == base + timedelta(minutes=10)
    ingest(session, camera, reads_at(base, [20], ["LATER1"]))
    ingest(session, camera, reads_at(base, [0], ["EARLY1"]))
    session.rollback()
    assert camera.first_used_at == base
    first_use = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.DEVICE_FIRST_USE.value)
    ).all()
    assert len(first_use) == 1 and first_use[0].subject_id == str(camera.id)
    corrections = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.DEVICE_UPDATED.value)
    ).all()
    assert len(corrections) == 1 and "first_used_at" in corrections[0].detail.details_json


def test_a_fixed_device_logs_its_location_and_needs_a_deployment(session):
    device, _ = create_device(session, "test", serial="POLE-1", kind="fixed")
    session.commit()
    base = utcnow() - timedelta(hours=1)
    with pytest.raises(IngestRefused) as refused:
        ingest_reads(session, "test", reads_at(base, [0]), device=device)
    assert refused.value.status == 409 and "no deployment" in refused.value.message
    session.rollback()
    create_deployment(
        session,
        "test",
        device,
        location_name="Hwy 61 at Pelzer St",
        latitude=44.03,
        longitude=-91.61,
        started_on=local_today() - timedelta(days=3),
    )
    session.commit()
    ingest(session, device, reads_at(base, [0, 5]))
    (period,) = periods(session, device)
    assert period.location_name == "Hwy 61 at Pelzer St"
    assert period.deployment_id == device.deployments[0].id


def test_other_agencies_reads_open_no_period(session):
    from app.auth.agencies import create_agency

    agency = create_agency(session, "test", name="Agency P")
    base = utcnow() - timedelta(hours=1)
    ingest_reads(session, "test", reads_at(base, [0, 1]), agency=agency)
    session.commit()
    assert session.scalars(select(ActiveUsePeriod)).all() == []
