"""The retention purge on the real database (SQLite by default, PostgreSQL with the env flag)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.audit.services import verify
from app.auth.models import Role
from app.config import ConfigurationError, validate_retention_days
from app.core.timeutil import local_today
from app.db import utcnow
from app.investigations.models import Investigation
from app.investigations.services import (
    close_investigation,
    release_case_data,
    reopen_investigation,
)
from app.reads.images import image_path
from app.reads.models import Hit, Read
from app.retention.destruction import delete_reads
from app.retention.exculpatory import decline_exculpatory_request, receive_exculpatory_request
from app.retention.holds import HoldError, holds_in_force, place_hold, release_hold
from app.retention.models import Hold, ImageTombstone, PurgeRun
from tests.factories import (
    DeviceFactory,
    HitFactory,
    InvestigationFactory,
    ReadFactory,
    UserFactory,
)
from tests.helpers import (
    PAPER_ORIGINAL,
    add_image,
    aged_read,
    dangling_images,
    orphan_files,
    run_purge,
    surviving_ids,
)


def test_purge_destroys_expired_reads_with_images_and_keeps_the_rest(app, session):
    old = aged_read(61, plate="OLD1")
    shared_old = aged_read(70, plate="OLD2")
    fresh = aged_read(57, plate="NEW1")  # a day goes the day before its oldest read turns 60
    fresh_id = fresh.id
    old_digest = add_image(session, old)
    shared = add_image(session, shared_old, content=b"same picture")
    add_image(session, fresh, content=b"same picture")

    result = run_purge(app)

    assert surviving_ids(session) == {fresh_id}
    assert (result.reads_destroyed, result.images_destroyed) == (2, 2)
    assert not image_path(old_digest).exists()
    assert image_path(shared).exists(), "a picture another read still uses stays"
    assert dangling_images(session) == [] and orphan_files(app, session) == []
    assert session.scalars(select(ImageTombstone)).all() == []
    assert result.acp_deferred_destroyed == 0, "expired reads are not counted as ACP-deferred"
    run = session.get(PurgeRun, result.run_id)
    assert (run.reads_destroyed, run.images_destroyed, run.finished_at is not None) == (2, 2, True)
    assert run.acp_deferred_destroyed == 0


def test_purge_audits_counts_never_plates(app, session):
    aged_read(65, plate="SECRET9")
    run_purge(app)
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.READS_PURGED.value)
    ).all()
    assert len(entries) == 1
    details = json.loads(entries[0].detail.details_json)
    assert details["reads"] == 1 and details["images"] == 0
    assert "SECRET9" not in entries[0].detail.details_json
    assert verify(session).ok


def test_purge_works_in_bounded_batches_and_is_idempotent(app, session):
    reads = [aged_read(61 + i) for i in range(5)]
    for read in reads:
        add_image(session, read)
    first = run_purge(app, batch_size=2)
    assert (first.reads_destroyed, first.batches) == (5, 3)
    assert (
        len(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == AuditAction.READS_PURGED.value)
            ).all()
        )
        == 3
    )
    second = run_purge(app, batch_size=2)
    assert (second.reads_destroyed, second.batches) == (0, 0)
    assert orphan_files(app, session) == []


def test_retention_days_setting_shortens_retention(app, session):
    kept = aged_read(27).id
    aged_read(29)
    run_purge(app, retention_days=30)
    assert surviving_ids(session) == {kept}


def test_held_reads_survive_the_close_until_the_data_is_released(app, session):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    device = DeviceFactory()
    case = InvestigationFactory(opened_on=local_today() - timedelta(days=100))
    held = aged_read(80, plate="HELD1", device=device)
    other_plate = aged_read(80, plate="FREE1", device=device)
    outside_window = aged_read(95, plate="HELD1", device=device)
    add_image(session, held)
    place_hold(
        session,
        chief,
        case,
        utcnow() - timedelta(days=90),
        utcnow() - timedelta(days=70),
        plates=["held-1"],
        description="suspect vehicle",
    )
    session.commit()

    held_id, gone = held.id, {other_plate.id, outside_window.id}
    run_purge(app)
    assert surviving_ids(session) == {held_id}
    assert gone.isdisjoint(surviving_ids(session))

    close_investigation(session, chief, case, "charges filed", local_today())
    session.commit()
    run_purge(app)
    assert surviving_ids(session) == {held_id}, "a case awaiting its disposition keeps its data"

    release_case_data(session, chief, session.get(Investigation, case.id))
    session.commit()
    run_purge(app)
    assert surviving_ids(session) == set()
    assert orphan_files(app, session) == []


def test_releasing_a_closed_cases_data_ends_its_holds_and_reopening_does_not_revive_them(
    app, session
):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    case = InvestigationFactory()
    read = aged_read(61, plate="ABC123").id
    hold = place_hold(
        session, chief, case, utcnow() - timedelta(days=62), utcnow(), plates=["ABC123"]
    )
    session.commit()

    close_investigation(session, chief, case, "charges filed", local_today())
    assert hold.released_at is None
    release_case_data(session, chief, case)
    reopen_investigation(session, chief, case, "new evidence")
    session.commit()

    assert hold.released_at is not None and holds_in_force(session) == []
    (released,) = session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.HOLD_RELEASED.value)
    ).all()
    assert released.subject_id == str(hold.id)
    assert f"Investigation {case.case_number} closed: its data released" in (
        released.detail.details_json
    )
    run_purge(app)
    assert read not in surviving_ids(session)


def test_released_hold_no_longer_keeps_data(app, session):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    case = InvestigationFactory()
    read = aged_read(61, plate="ABC123").id
    hold = place_hold(
        session, chief, case, utcnow() - timedelta(days=62), utcnow(), plates=["ABC123"]
    )
    session.commit()
    run_purge(app)
    assert surviving_ids(session) == {read}
    release_hold(session, chief, hold, "no longer needed")
    session.commit()
    run_purge(app)
    assert surviving_ids(session) == set()


def test_a_received_exculpatory_request_keeps_its_scope_and_a_declined_one_does_not(app, session):
    """425.5(a): the written request keeps the data from receipt, before anyone activates it."""
    records = UserFactory(roles=[Role.RECORDS])
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    kept = aged_read(65, plate="KEEP1").id
    declined_scope = aged_read(65, plate="DECL1").id
    outside_scope = aged_read(65, plate="FREE2").id
    window = {"window_start": utcnow() - timedelta(days=70), "window_end": utcnow()}
    received = receive_exculpatory_request(
        session,
        records,
        requester_name="J. Subject",
        case_file_number="85-CR-1",
        received_on=local_today(),
        plates=["KEEP1"],
        **window,
        paper_original=PAPER_ORIGINAL,
    )
    to_decline = receive_exculpatory_request(
        session,
        records,
        requester_name="N. Other",
        case_file_number="85-CR-2",
        received_on=local_today(),
        plates=["DECL1"],
        **window,
        paper_original=PAPER_ORIGINAL,
    )
    session.commit()

    run_purge(app)
    assert surviving_ids(session) == {kept, declined_scope}, "both requests are only received"
    assert outside_scope not in surviving_ids(session)

    decline_exculpatory_request(
        session, chief, to_decline, reason="The requester is not the subject of an investigation."
    )
    session.commit()
    run_purge(app)
    assert surviving_ids(session) == {kept}
    assert received.status == "received"


@pytest.mark.parametrize(
    ("status", "in_force"),
    [("received", True), ("active", True), ("released", False), ("declined", False)],
)
def test_the_request_status_alone_decides_whether_its_hold_is_in_force(
    app, session, status, in_force
):
    """Even with the hold row not marked released, a released or declined request keeps nothing."""
    read = aged_read(65, plate="KEEP1").id
    request = receive_exculpatory_request(
        session,
        UserFactory(roles=[Role.RECORDS]),
        requester_name="J. Subject",
        case_file_number="85-CR-1",
        received_on=local_today(),
        window_start=utcnow() - timedelta(days=70),
        window_end=utcnow(),
        plates=["KEEP1"],
        paper_original=PAPER_ORIGINAL,
    )
    request.status = status
    if status == "released":
        request.disposition, request.resolved_on = "Charges dismissed", local_today()
    if status == "declined":
        request.decline_reason = "The requester is not the subject of an investigation."
    session.commit()
    in_force_ids = [hold.exculpatory_request_id for hold in holds_in_force(session)]
    assert in_force_ids == ([request.id] if in_force else [])
    run_purge(app)
    assert (read in surviving_ids(session)) is in_force


@pytest.mark.parametrize(
    ("start_days", "end_days", "plates", "devices", "message"),
    [
        (None, 1, ["ABC123"], [], "bounded time window"),
        (10, None, ["ABC123"], [], "bounded time window"),
        (1, 10, ["ABC123"], [], "end must come after"),
        (500, 1, ["ABC123"], [], "at most 366 days"),
        (10, 1, [], [], "scope is empty"),
        (10, 1, ["  "], [], "scope is empty"),
        (10, 1, ["#!?"], [], "letters and digits"),
        (10, 1, [], [999999], "Unknown device"),
    ],
)
def test_bad_hold_scope_is_refused_and_nothing_saved(
    app, session, start_days, end_days, plates, devices, message
):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    case = InvestigationFactory()
    now = utcnow()
    with pytest.raises(HoldError, match=message):
        place_hold(
            session,
            chief,
            case,
            None if start_days is None else now - timedelta(days=start_days),
            None if end_days is None else now - timedelta(days=end_days),
            plates=plates,
            device_ids=devices,
        )
    session.rollback()
    assert session.scalars(select(Hold)).all() == []


def test_closed_investigation_cannot_place_a_hold(app, session):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    case = InvestigationFactory(status="closed", closed_on=local_today())
    with pytest.raises(HoldError, match="only an active criminal investigation"):
        place_hold(session, chief, case, utcnow() - timedelta(days=3), utcnow(), plates=["A1"])
    assert session.scalars(select(Hold)).all() == []


def test_retention_above_sixty_days_is_refused(base_config):
    assert validate_retention_days(60) == 60
    with pytest.raises(ConfigurationError, match=r"between 1 and 60 .*got 61"):
        validate_retention_days(61)
    with pytest.raises(ConfigurationError, match="got 61"):
        create_app({**base_config, "RETENTION_DAYS": 61})


def test_a_plate_scoped_hold_does_not_keep_reads_without_a_plate(app, session):
    """A read with no plate yet (waiting for OCR) is not kept by a plate-scoped hold."""
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    case = InvestigationFactory()
    pending = aged_read(61, plate=None, plate_status="pending_ocr").id
    place_hold(session, chief, case, utcnow() - timedelta(days=70), utcnow(), plates=["X1"])
    session.commit()
    run_purge(app)
    assert session.scalar(select(Read.id).where(Read.id == pending)) is None


def test_cli_purge_runs_the_tracked_job(app, session):
    """In the app's own context, so on SQLite it begins IMMEDIATE as in production.

    (The test code's twin app begins deferred; a command run in its context would not show
    a job holding the write lock that the purge's own sessions need.)
    """
    from app.jobs.models import JobRun

    aged_read(61)
    session.commit()
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["retention", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 reads and 0 images destroyed" in result.output
    session.commit()
    run = session.scalars(select(JobRun).where(JobRun.name == "purge_expired_reads")).one()
    assert run.status == "done" and json.loads(run.result_json)["reads_destroyed"] == 1


def test_purge_takes_the_hits_of_destroyed_reads_and_keeps_the_others(app, session):
    old, fresh = aged_read(61), aged_read(10)
    HitFactory(read=old)
    kept_hit = HitFactory(read=fresh).id
    session.commit()
    run_purge(app)
    assert set(session.scalars(select(Hit.id))) == {kept_hit}


def test_batches_walk_reads_sharing_one_instant_past_held_rows(app, session):
    """Many reads at one captured_at, a held one among them, split over several batches."""
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    device, held_device = DeviceFactory(), DeviceFactory()
    instant = utcnow() - timedelta(days=70)
    doomed = [ReadFactory(device=device, plate=f"SAME{n}", captured_at=instant) for n in range(5)]
    held = ReadFactory(device=held_device, plate="SAME9", captured_at=instant)
    later = ReadFactory(device=device, plate="LATER1", captured_at=instant + timedelta(hours=1))
    place_hold(
        session,
        chief,
        InvestigationFactory(),
        instant - timedelta(days=1),
        instant + timedelta(minutes=1),
        device_ids=[held_device.id],
    )
    session.commit()
    held_id, gone = held.id, {r.id for r in [*doomed, later]}

    result = run_purge(app, batch_size=2)

    assert surviving_ids(session) == {held_id}
    assert result.reads_destroyed == len(gone) == 6


def test_delete_reads_flushes_pending_changes_and_forgets_the_deleted_objects(app, session):
    """The OCR/ACP path destroys a read it has just changed, with its images and hits loaded."""
    read, other = aged_read(1, plate="OCR1"), aged_read(1, plate="KEEP1")
    add_image(session, read)
    hit = HitFactory(read=read)
    session.commit()
    assert read.images and hit.read is read
    read.plate = "OCR2"
    other.plate = "KEEP2"

    deleted = delete_reads(session, [read.id], "system:test")
    session.commit()

    assert (deleted.reads, deleted.images, len(deleted.orphans)) == (1, 1, 1)
    assert read not in session and hit not in session
    assert surviving_ids(session) == {other.id}
    assert session.scalar(select(Read.plate).where(Read.id == other.id)) == "KEEP2"
