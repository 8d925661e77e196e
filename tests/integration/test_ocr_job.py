"""The OCR job: real Redis and an RQ worker on PostgreSQL runs, in-process on SQLite."""

from __future__ import annotations

import json
import uuid

from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from app.alpr.hotlists import load_hotlist
from app.alpr.image_reads import record_ocr_result
from app.alpr.ocr.pipeline import OcrResult
from app.audit.models import AuditEntry
from app.auth.models import Role
from app.core.timeutil import local_today
from app.jobs.models import JobRun
from app.reads.images import image_path
from app.reads.models import ActiveUsePeriod, Hit, ImageKind, PlateStatus, Read
from app.retention.acp.lifecycle import (
    destroy_existing_acp_data,
    receive_acp_request,
    verify_acp_request,
)
from app.retention.models import AcpRequest
from tests.conftest import BACKEND
from tests.factories import UserFactory
from tests.helpers import (
    PAPER_ORIGINAL,
    blank_picture,
    device_with_token,
    pending_read,
    plate_picture,
    upload_fields,
    upload_image,
)
from workers.ocr import ocr_read


def ocr_entries(session, read_id):
    session.commit()  # ends the snapshot: see what the job committed
    return session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "read.ocr_completed", AuditEntry.subject_id == str(read_id)
        )
    ).all()


def test_ocr_job_reads_the_plate_end_to_end(session, make_app, redis_url):
    """PostgreSQL: the upload only queues the job; a real RQ worker on Redis runs it."""
    _, token = device_with_token(session)
    load_hotlist(session, "test", b"plate,category\nKTR4821,warrant\n")
    session.commit()
    on_redis = BACKEND == "postgres"
    prefix = f"test-ocr-{uuid.uuid4().hex[:8]}-"
    web = make_app(REDIS_URL=redis_url, RQ_QUEUE_PREFIX=prefix) if on_redis else make_app()
    response = upload_image(
        web.test_client(),
        token,
        upload_fields(),
        {"plate": (plate_picture("KTR 4821"), "plate.png")},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    run = session.get(JobRun, body["ocr_job"])

    if on_redis:
        assert body["plate_status"] == PlateStatus.PENDING_OCR.value
        assert run.status == "queued"
        queue = Queue(f"{prefix}ocr", connection=web.extensions["alpr_redis"])
        assert queue.count == 1
        with web.app_context():
            SimpleWorker([queue], connection=queue.connection).work(burst=True)
        assert queue.count == 0
        queue.delete(delete_jobs=True)

    session.commit()  # ends the snapshot: see what the job committed
    read = session.get(Read, body["read_id"])
    assert (read.plate, read.plate_status) == ("KTR4821", PlateStatus.OCR_ACCEPTED.value)
    assert read.ocr_confidence >= 0.9
    assert read.ocr_candidates is None  # a decided plate keeps no OCR alternatives
    run = session.get(JobRun, body["ocr_job"], populate_existing=True)
    assert run.status == "done"
    assert json.loads(run.result_json)["plate_status"] == "ocr_accepted"
    assert "KTR4821" not in run.result_json
    hit = session.scalars(select(Hit).where(Hit.read_id == read.id)).one()
    assert hit.category == "warrant"
    (entry,) = ocr_entries(session, read.id)
    assert entry.actor_label == "system:ocr"
    header = " ".join(str(v) for v in (entry.actor_label, entry.action, entry.subject_type))
    assert "KTR4821" not in header
    assert json.loads(entry.detail.details_json)["plate"] == "KTR4821"


def test_a_picture_without_a_plate_is_unreadable(client, session):
    _, token = device_with_token(session)
    response = upload_image(
        client, token, upload_fields(), {"overview": (blank_picture("JPEG"), "o.jpg")}
    )
    read = session.get(Read, response.get_json()["read_id"])
    assert (read.plate, read.plate_status) == (None, PlateStatus.UNREADABLE.value)
    assert read.ocr_confidence == 0
    (entry,) = ocr_entries(session, read.id)
    assert json.loads(entry.detail.details_json)["image"] == "overview"


def test_a_doubtful_plate_goes_to_review_and_is_not_matched_yet(client, session):
    load_hotlist(session, "test", b"plate,category\nABC1234,stolen_plate\n")
    read = pending_read(client, session)
    result = OcrResult("ABC1234", 0.61, True, {"rapidocr": "ABC1234", "tesseract": "A8C1234"})
    assert record_ocr_result(session, read, result, ImageKind.PLATE) is None
    session.commit()
    assert read.plate_status == PlateStatus.NEEDS_REVIEW.value
    assert session.scalars(select(Hit).where(Hit.read_id == read.id)).all() == []


def test_rerun_and_vanished_reads_are_left_alone(client, session):
    read = pending_read(client, session)
    assert ocr_read(read.id)["outcome"] == "done"
    assert ocr_read(read.id) == {
        "read_id": read.id,
        "outcome": "skipped",
        "plate_status": PlateStatus.OCR_ACCEPTED.value,
    }
    assert ocr_read(987654)["outcome"] == "gone"
    assert len(ocr_entries(session, read.id)) == 1


def test_an_acp_plate_read_by_ocr_is_destroyed_with_its_picture(client, session):
    records = UserFactory(roles=[Role.RECORDS])
    request = receive_acp_request(
        session,
        records,
        participant_number="ACP-7",
        plates=["ACP 777"],
        received_on=local_today(),
        paper_original=PAPER_ORIGINAL,
    )
    verify_acp_request(session, records, request)
    session.commit()
    read = pending_read(client, session, plate_picture("ACP777"))
    sha = read.images[0].sha256
    read_id = read.id
    assert image_path(sha).exists()
    assert ocr_read(read_id)["outcome"] == "destroyed_acp"
    session.commit()  # ends the snapshot: see what the job committed
    assert session.get(Read, read_id, populate_existing=True) is None
    assert not image_path(sha).exists()
    (entry,) = ocr_entries(session, read_id)
    assert "ACP777" not in entry.detail.details_json


def test_a_resend_of_a_picture_ocr_destroyed_for_acp_counts_once(client, session):
    """The read is gone, yet its resend is known (a keyed digest): counted in no log again."""
    records = UserFactory(roles=[Role.RECORDS])
    request = receive_acp_request(
        session,
        records,
        participant_number="ACP-8",
        plates=["ACP 888"],
        received_on=local_today(),
        paper_original=PAPER_ORIGINAL,
    )
    verify_acp_request(session, records, request)
    session.commit()
    _, token = device_with_token(session, serial="CAM-ACP8")
    sent, picture = upload_fields(), plate_picture("ACP888")
    first = upload_image(client, token, sent, {"plate": (picture, "p.png")}).get_json()
    assert first["outcome"] == "stored"  # its OCR job ran at once (no Redis) and destroyed it
    again = upload_image(client, token, sent, {"plate": (picture, "p.png")})
    assert again.status_code == 200 and again.get_json()["outcome"] == "destroyed_acp"
    session.commit()
    assert session.scalar(select(func.sum(ActiveUsePeriod.plates_read))) == 1
    assert session.scalars(select(Read)).all() == []
    session.expire_all()
    assert session.get(AcpRequest, request.id).destroyed_at_collection == 1


def test_a_resend_of_a_picture_destroyed_as_existing_acp_data_counts_once(client, session):
    """Read by OCR and kept, then destroyed with the participant's existing data."""
    _, token = device_with_token(session, serial="CAM-ACP9")
    sent, picture = upload_fields(), plate_picture("ACP999")
    first = upload_image(client, token, sent, {"plate": (picture, "p.png")}).get_json()
    assert session.get(Read, first["read_id"]).plate == "ACP999"
    records = UserFactory(roles=[Role.RECORDS])
    request = receive_acp_request(
        session,
        records,
        participant_number="ACP-9",
        plates=["ACP 999"],
        received_on=local_today(),
        paper_original=PAPER_ORIGINAL,
    )
    verify_acp_request(session, records, request)
    assert destroy_existing_acp_data(session, records, request).destroyed == 1
    session.commit()

    again = upload_image(client, token, sent, {"plate": (picture, "p.png")})

    assert again.status_code == 200 and again.get_json()["outcome"] == "destroyed_acp"
    session.commit()
    assert session.scalar(select(func.sum(ActiveUsePeriod.plates_read))) == 1
    assert session.scalars(select(Read)).all() == []
    session.expire_all()
    stored = session.get(AcpRequest, request.id)
    assert (stored.existing_destroyed, stored.destroyed_at_collection) == (1, 0)
