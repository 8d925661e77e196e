"""A collection day past retention: the same outcome whether it leaves as a partition
(PostgreSQL, app.retention.purge_days) or row by row (SQLite, and PostgreSQL's fallbacks)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select, text

from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.audit.services import verify
from app.auth.models import Role
from app.db import utcnow
from app.reads.images import image_path
from app.reads.models import Hit, ReadImage
from app.reads.partitions import (
    DAYS_AHEAD,
    create_day_partitions,
    day_partitions,
    is_partitioned,
    partition_name,
)
from app.retention import purge_days
from app.retention.holds import place_hold
from tests.factories import (
    DeviceFactory,
    HitFactory,
    InvestigationFactory,
    ReadFactory,
    UserFactory,
)
from tests.helpers import (
    add_image,
    dangling_images,
    orphan_files,
    run_purge,
    surviving_ids,
)

PARTITIONS_ONLY = "day partitions are PostgreSQL's; scripts/test runs this file there too"


def _day(days_ago: int) -> datetime:
    """10:00 UTC on the day `days_ago` days before today."""
    return datetime.combine((utcnow() - timedelta(days=days_ago)).date(), time(10), tzinfo=UTC)


@pytest.fixture
def partitioned(session) -> bool:
    return is_partitioned(session)


@pytest.fixture
def past_day(session, partitioned):
    """A day 70 days back with a partition of its own on PostgreSQL (as time would have made)."""
    at = _day(70)
    if partitioned:
        create_day_partitions(session, [at.date()])
        session.commit()
    return at


def _read(device, at, plate, **fields):
    return ReadFactory(device=device, captured_at=at, plate=plate, **fields)


def test_held_reads_of_a_past_day_stay_with_their_pictures_and_hits(
    app, session, partitioned, past_day
):
    kept_camera, other_camera = DeviceFactory(), DeviceFactory()
    held = _read(kept_camera, past_day, "KEEP1")
    gone = [_read(other_camera, past_day + timedelta(minutes=n), f"GONE{n}") for n in range(3)]
    _read(other_camera, past_day + timedelta(hours=1), "ACPX1", acp_deferred_at=utcnow())
    held_hit = HitFactory(read=held)
    HitFactory(read=gone[0])
    kept_picture = add_image(session, held, content=b"kept and shared picture")
    add_image(session, gone[1], kind="vehicle", content=b"kept and shared picture")
    lost_picture = add_image(session, gone[2], content=b"picture of a destroyed read")
    held_image_id = session.scalars(select(ReadImage.id).where(ReadImage.read_id == held.id)).one()
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    place_hold(
        session,
        chief,
        InvestigationFactory(),
        past_day - timedelta(days=1),
        past_day + timedelta(days=1),
        device_ids=[kept_camera.id],
    )
    session.commit()
    held_id, held_hit_id = held.id, held_hit.id

    result = run_purge(app)

    assert surviving_ids(session) == {held_id}
    assert result.reads_destroyed == 4 and result.acp_deferred_destroyed == 1
    assert result.images_destroyed == 2
    assert session.scalars(select(Hit.id)).all() == [held_hit_id], "the kept hit keeps its id"
    assert session.scalars(select(ReadImage.id)).all() == [held_image_id]
    assert image_path(kept_picture).exists() and not image_path(lost_picture).exists()
    assert dangling_images(session) == [] and orphan_files(app, session) == []
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.READS_PURGED.value)
    ).all()
    details = [json.loads(e.detail.details_json) for e in entries]
    assert sum(d["reads"] for d in details) == 4
    assert all("KEEP1" not in e.detail.details_json for e in entries), "counts, never plates"
    if partitioned:
        assert result.days == 1
        assert [d["phase"] for d in details] == ["expired_day"]
        assert details[0]["kept_by_holds"] == 1 and details[0]["day"] == past_day.date().isoformat()
        owner = session.scalar(text("SELECT tableoid::regclass::text FROM reads"))
        assert owner == partition_name(past_day.date()), "the kept read is in its day's new table"
    assert verify(session).ok


def test_a_past_day_with_nothing_held_is_dropped_whole(app, session, partitioned, past_day):
    if not partitioned:
        pytest.skip(PARTITIONS_ONLY)
    camera = DeviceFactory()
    for n in range(5):
        _read(camera, past_day + timedelta(minutes=n), f"DROP{n}")
    fresh = _read(camera, _day(1), "STAY1").id
    session.commit()

    result = run_purge(app)

    assert surviving_ids(session) == {fresh}
    assert (result.days, result.reads_destroyed) == (1, 5)
    session.commit()
    days = set(day_partitions(session))
    assert past_day.date() not in days
    today = utcnow().date()
    assert {today + timedelta(days=n) for n in range(DAYS_AHEAD + 1)} <= days


def test_a_day_that_cannot_get_its_lock_is_left_to_the_row_batches(
    app, session, partitioned, past_day, monkeypatch
):
    if not partitioned:
        pytest.skip(PARTITIONS_ONLY)
    camera = DeviceFactory()
    for n in range(3):
        _read(camera, past_day + timedelta(minutes=n), f"LOCK{n}")
    session.commit()
    monkeypatch.setattr(purge_days, "LOCK_TIMEOUT_MS", 200)
    engine = app.extensions["alpr_engine"]
    with engine.connect() as blocker:
        blocker.execute(text(f'LOCK TABLE "{partition_name(past_day.date())}" IN ROW SHARE MODE'))
        result = run_purge(app)
        blocker.rollback()

    assert result.days == 0 and result.reads_destroyed == 3
    assert surviving_ids(session) == set()
    phases = {
        json.loads(e.detail.details_json)["phase"]
        for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == AuditAction.READS_PURGED.value)
        )
    }
    assert phases == {"expired"}


def test_a_failure_after_a_day_commits_is_finished_by_the_next_run(
    app, session, partitioned, past_day
):
    camera = DeviceFactory()
    digests = [
        add_image(session, _read(camera, past_day + timedelta(minutes=n), f"CRSH{n}"))
        for n in range(3)
    ]

    def fail(step: int) -> None:
        raise RuntimeError("disk went away")

    with pytest.raises(RuntimeError):
        run_purge(app, after_commit=fail)
    assert surviving_ids(session) == set(), "the day's rows went in the committed step"
    assert dangling_images(session) == []
    assert all(image_path(d).exists() for d in digests), "files wait for their tombstones"

    result = run_purge(app)
    assert result.leftover_files_removed == 3
    assert orphan_files(app, session) == [] and dangling_images(session) == []


def test_reads_of_a_day_without_a_partition_are_purged_all_the_same(app, session, partitioned):
    camera = DeviceFactory()
    at = _day(80)
    _read(camera, at, "DFLT1")
    session.commit()
    if partitioned:
        owner = session.scalar(text("SELECT tableoid::regclass::text FROM reads"))
        assert owner == "reads_default"
        assert create_day_partitions(session, [at.date()]) == [], "rows in the default block it"
        session.rollback()

    run_purge(app)

    assert surviving_ids(session) == set()
