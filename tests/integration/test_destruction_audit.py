"""What destruction leaves in the audit trail: counts and a redaction record, never the plate
of a destroyed read; and the order of locks that keeps the OCR step clear of ingest."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.alpr.image_reads import confirm_plate, correct_plate, record_ocr_result
from app.alpr.ocr.pipeline import OcrResult
from app.audit.actions import AuditAction
from app.audit.models import AuditDetail
from app.audit.services import AUDIT_LOCK_KEY, verify
from app.auth.models import Role
from app.core.timeutil import local_today
from app.db import utcnow
from app.reads.models import ImageKind
from app.retention.acp.lifecycle import (
    destroy_existing_acp_data,
    receive_acp_request,
    verify_acp_request,
)
from app.retention.destruction import DESTROYED_REASON
from tests.conftest import BACKEND
from tests.factories import UserFactory
from tests.helpers import (
    PAPER_ORIGINAL,
    add_image,
    aged_read,
    entries,
    review_read,
    run_purge,
    surviving_ids,
)


def _plate_anywhere(session, plate: str) -> bool:
    return any(plate in (d.details_json or "") for d in session.scalars(select(AuditDetail)))


def test_the_purge_redacts_the_plates_recorded_against_the_reads_it_destroys(app, client, session):
    read = review_read(client, session, "KLM5512")
    read_id = read.id
    (ocr_entry,) = entries(session, AuditAction.READ_OCR_COMPLETED)
    assert _plate_anywhere(session, "KLM5512")

    run_purge(app, now=utcnow() + timedelta(days=61))

    assert surviving_ids(session) == set()
    session.expire_all()
    detail = session.get(AuditDetail, ocr_entry.id)
    assert detail.details_json is None and detail.redacted_reason == DESTROYED_REASON
    (redaction,) = entries(session, AuditAction.AUDIT_DETAILS_REDACTED)
    assert json.loads(redaction.detail.details_json)["entries"] == [ocr_entry.id]
    assert not _plate_anywhere(session, "KLM5512")
    assert ocr_entry.subject_id == str(read_id), "the header still says what was done to what"
    assert verify(session).ok


def test_destroying_an_acp_participants_data_redacts_the_plate_ocr_recorded(app, client, session):
    records = UserFactory(roles=[Role.RECORDS])
    review_read(client, session, "HIDE123")
    request = receive_acp_request(
        session,
        records,
        participant_number="ACP-7",
        plates=["HIDE123"],
        received_on=local_today(),
        paper_original=PAPER_ORIGINAL,
    )
    verify_acp_request(session, records, request)
    session.commit()

    outcome = destroy_existing_acp_data(session, records, request)
    session.commit()

    assert outcome.destroyed == 1
    assert not _plate_anywhere(session, "HIDE123")
    assert verify(session).ok


@pytest.mark.parametrize(("ocr_plate", "decision"), [("HIDE42", None), ("HIDE43", "HIDE42")])
def test_a_review_giving_a_read_an_acp_plate_leaves_no_plate_in_the_trail(
    app, client, session, ocr_plate, decision
):
    """Confirmed, or corrected to the participant's plate, before the destroy job has run."""
    records = UserFactory(roles=[Role.RECORDS])
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    read = review_read(client, session, ocr_plate)
    request = receive_acp_request(
        session,
        records,
        participant_number="ACP-8",
        plates=["HIDE42"],
        received_on=local_today(),
        paper_original=PAPER_ORIGINAL,
    )
    verify_acp_request(session, records, request)
    session.commit()

    if decision is None:
        deleted = confirm_plate(session, operator, read)
    else:
        deleted = correct_plate(session, operator, read, decision)
    session.commit()

    assert deleted is not None
    assert not _plate_anywhere(session, "HIDE42") and not _plate_anywhere(session, ocr_plate)
    assert verify(session).ok


def test_every_purge_run_ends_with_its_totals_in_the_trail(app, session):
    run_purge(app)
    add_image(session, aged_read(70, plate="GONE1"))
    result = run_purge(app)

    first, second = (
        json.loads(e.detail.details_json) for e in entries(session, AuditAction.PURGE_COMPLETED)
    )
    assert (first["reads_destroyed"], first["files_removed"]) == (0, 0)
    assert (second["reads_destroyed"], second["files_removed"]) == (1, 1)
    assert second["run_id"] == result.run_id
    assert not _plate_anywhere(session, "GONE1")


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite has one write lock: no lock order")
def test_the_ocr_step_takes_the_device_lock_before_the_audit_chain(app, client, session):
    """Ingest locks the device, then the chain; a step taking them the other way could deadlock."""
    read = review_read(client, session, "ORDR123")
    read.plate_status = "pending_ocr"
    session.commit()
    engine = app.extensions["alpr_engine"]
    factory = app.extensions["alpr_sessionmaker"]
    finished = threading.Event()

    def ocr_step() -> None:
        with app.app_context(), factory() as other:
            pending = other.get(type(read), read.id)
            record_ocr_result(
                other, pending, OcrResult("ORDR123", 0.99, False, {}), ImageKind.PLATE
            )
            other.commit()
        finished.set()

    with engine.connect() as camera:
        camera.execute(
            text("SELECT id FROM devices WHERE id = :d FOR UPDATE"), {"d": read.device_id}
        )
        worker = threading.Thread(target=ocr_step)
        worker.start()
        time.sleep(0.5)
        chain_free = camera.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_KEY}
        ).scalar()
        assert not finished.is_set()
        camera.rollback()
    worker.join(timeout=30)
    assert chain_free, "the OCR step held the audit chain while it waited for the device"
    assert finished.is_set()
