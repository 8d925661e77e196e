"""Image-only reads in the log of use (425.5.1) and one spelling of a plate (O folded into 0)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.alpr.hotlists import load_hotlist
from app.alpr.image_reads import confirm_plate, correct_plate, record_ocr_result
from app.alpr.ocr.pipeline import OcrResult
from app.alpr.search import build_criteria, parse_plate_query, results_query
from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.auth.models import Role
from app.core.timeutil import local_today
from app.db import utcnow
from app.reads.models import ActiveUsePeriod, Device, Hit, ImageKind, PlateStatus, Read
from app.retention.acp.lifecycle import receive_acp_request, verify_acp_request
from app.retention.holds import clean_scope
from tests.factories import UserFactory
from tests.helpers import PAPER_ORIGINAL, device_with_token, pending_read, review_read


def period_of(session, read: Read) -> ActiveUsePeriod:
    session.commit()  # ends the snapshot: see what the request committed
    read = session.get(Read, read.id, populate_existing=True)
    assert read.active_use_period_id is not None
    return session.get(ActiveUsePeriod, read.active_use_period_id, populate_existing=True)


def accepted(plate: str) -> OcrResult:
    return OcrResult(plate, 0.99, False, {"rapidocr": plate, "tesseract": plate})


def post_reads(client, token, plates):
    at = utcnow() - timedelta(minutes=3)
    reads = [
        {
            "plate": plate,
            "captured_at": (at + timedelta(seconds=i)).isoformat(),
            "latitude": 44.05,
            "longitude": -91.64,
        }
        for i, plate in enumerate(plates)
    ]
    response = client.post(
        "/api/v1/reads", json={"reads": reads}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- image-only reads in the log of use ----------------------------------------------------


def test_an_image_only_read_is_counted_and_marks_first_use_when_it_arrives(client, session):
    read = pending_read(client, session)
    assert (read.plate, read.plate_status) == (None, PlateStatus.PENDING_OCR.value)
    period = period_of(session, read)
    assert (period.device_id, period.plates_read) == (read.device_id, 1)
    assert period.started_at == period.ended_at == read.captured_at
    device = session.get(Device, read.device_id)
    assert device.first_used_at == read.captured_at
    entries = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == AuditAction.DEVICE_FIRST_USE.value,
            AuditEntry.subject_id == str(device.id),
        )
    ).all()
    assert len(entries) == 1


def test_a_hit_found_by_ocr_is_counted_in_the_period_the_read_arrived_in(client, session):
    load_hotlist(session, "test", b"plate,category\nKTR4821,warrant\n")
    session.commit()
    read = pending_read(client, session)
    assert record_ocr_result(session, read, accepted("KTR4821"), ImageKind.PLATE) is None
    session.commit()
    period = period_of(session, read)
    assert (period.plates_read, period.hits_warrant, period.hits_stolen) == (1, 1, 0)
    assert json.loads(period.sources_compared) == ["mn_plate_file"]


def test_a_doubtful_plate_counts_no_hit_until_review(client, session):
    load_hotlist(session, "test", b"plate,category\nABC1234,stolen_plate\n")
    session.commit()
    read = review_read(client, session, "ABC1234")
    period = period_of(session, read)
    assert (period.plates_read, period.hits_stolen) == (1, 0)


@pytest.mark.parametrize("decision", ["confirm", "correct"])
def test_a_hit_found_by_review_is_counted_in_the_reads_period(client, session, decision):
    load_hotlist(
        session, "test", b"plate,category\nABC1234,stolen_plate\nABC1284,suspended_revoked\n"
    )
    session.commit()
    read = review_read(client, session, "ABC1234")
    operator = UserFactory(roles=[Role.OPERATOR])
    session.commit()
    if decision == "confirm":
        assert confirm_plate(session, operator, read) is None
    else:
        assert correct_plate(session, operator, read, "abc 1284") is None
    session.commit()
    period = period_of(session, read)
    expected = (1, 0) if decision == "confirm" else (0, 1)
    assert (period.hits_stolen, period.hits_suspended_revoked) == expected
    assert period.plates_read == 1
    assert len(session.scalars(select(Hit).where(Hit.read_id == read.id)).all()) == 1


# --- one spelling of a plate ---------------------------------------------------------------


def test_a_hotlist_entry_with_an_o_matches_a_camera_o_and_an_ocr_zero(client, session):
    load_hotlist(session, "test", b"plate,category\nABO 123,stolen_vehicle\n")
    _, token = device_with_token(session, serial="CAM-O")
    body = post_reads(client, token, ["abo-123"])
    assert (body["stored"], body["hits"]) == (1, 1)
    ocr_read = pending_read(client, session)
    record_ocr_result(session, ocr_read, accepted("AB0123"), ImageKind.PLATE)
    session.commit()
    hits = session.scalars(select(Hit).order_by(Hit.id)).all()
    assert [(h.read.plate, h.category) for h in hits] == [
        ("AB0123", "stolen_vehicle"),
        ("AB0123", "stolen_vehicle"),
    ]
    assert hits[1].read_id == ocr_read.id


def test_a_search_typed_with_an_o_finds_the_read(client, session):
    _, token = device_with_token(session, serial="CAM-S")
    post_reads(client, token, ["XY0789"])
    assert parse_plate_query("xyo 789") == "XY0789"
    assert parse_plate_query("XYO*") == "XY0%"
    now = utcnow()
    for typed in ("XYO789", "xy o*"):
        criteria = build_criteria(
            session,
            start=now - timedelta(hours=1),
            end=now,
            now=now,
            max_window_days=60,
            plate=typed,
        )
        assert [r.plate for r in session.scalars(results_query(session, criteria))] == ["XY0789"]


@pytest.mark.parametrize(("typed", "sent"), [("HIDE O1", "HIDE01"), ("HID0301", "HIDO3-O1")])
def test_an_acp_plate_destroys_the_read_however_o_and_zero_are_written(
    client, session, typed, sent
):
    clerk = UserFactory(roles=[Role.RECORDS])
    request = receive_acp_request(
        session,
        clerk,
        participant_number="ACP-O",
        plates=[typed],
        received_on=local_today(),
        paper_original=PAPER_ORIGINAL,
    )
    verify_acp_request(session, clerk, request)
    session.commit()
    _, token = device_with_token(session, serial="CAM-A")
    body = post_reads(client, token, [sent, "KEEP1"])
    assert [r["outcome"] for r in body["results"]] == ["destroyed_acp", "stored"]
    assert session.scalars(select(Read.plate)).all() == ["KEEP1"]


def test_hold_plates_are_kept_in_the_same_spelling(session):
    now = utcnow()
    scope = clean_scope(session, now - timedelta(days=1), now, plates=["abo-123", "AB0123"])
    assert scope.plates == ("AB0123",)
