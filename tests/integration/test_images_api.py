"""The image upload API, the content-addressed store and the authorised, audited image view."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.alpr.devices import revoke_device
from app.alpr.hotlists import load_hotlist
from app.audit.models import AuditEntry
from app.auth.models import Role
from app.db import utcnow
from app.jobs.models import JobRun
from app.reads.images import ImageRejected, clean_image, image_path
from app.reads.models import ActiveUsePeriod, Hit, PlateStatus, Read, ReadImage
from tests.helpers import (
    blank_picture,
    count_rows,
    device_with_token,
    look_up_read,
    plate_picture,
    stored_files,
    upload_fields,
    upload_image,
    when_run,
)


@pytest.fixture
def token(session):
    return device_with_token(session)[1]


# --- storing -------------------------------------------------------------------------------


def test_image_only_read_is_stored_content_addressed_and_read_by_ocr(client, session, app, token):
    picture = plate_picture("ABC1234")
    response = upload_image(
        client, token, upload_fields(client_read_id="r-1"), {"plate": (picture, "p.png")}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["outcome"] == "stored"
    assert body["images"][0]["kind"] == "plate"
    assert (body["images"][0]["width"], body["images"][0]["height"]) == (520, 260)

    with app.app_context():
        path = image_path(body["images"][0]["sha256"])
    sha = body["images"][0]["sha256"]
    assert path.relative_to(app.config["IMAGE_STORE"]).parts == (sha[:2], sha[2:4], sha)
    assert path.read_bytes() == picture
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".incoming-")]

    read = session.get(Read, body["read_id"])
    assert read.plate_status == PlateStatus.OCR_ACCEPTED.value  # in-process job already ran
    assert read.plate == "ABC1234"
    image = read.images[0]
    assert (image.content_type, image.byte_size) == ("image/png", len(picture))
    run = session.get(JobRun, body["ocr_job"])
    assert run.status == "done"
    assert "ABC1234" not in (run.result_json or "") + run.arguments_json


def test_identical_pictures_are_stored_once_and_a_resend_is_a_duplicate(
    client, session, app, token
):
    picture = plate_picture("DUP4821")
    sent = upload_fields(client_read_id="a")
    first = upload_image(client, token, sent, {"plate": (picture, "a.png")})
    second = upload_image(
        client, token, upload_fields(client_read_id="b"), {"plate": (picture, "b.png")}
    )
    resend = upload_image(client, token, sent, {"plate": (picture, "a.png")})
    assert (first.status_code, second.status_code, resend.status_code) == (201, 201, 200)
    assert resend.get_json()["outcome"] == "duplicate"
    assert resend.get_json()["read_id"] == first.get_json()["read_id"]
    assert count_rows(session, Read) == 2
    assert count_rows(session, ReadImage) == 2
    assert len(stored_files(app)) == 1


def test_an_image_only_resend_without_a_client_id_is_a_duplicate_counted_once(
    client, session, token
):
    """No plate and no client id: the same pictures at the same instant are the same read."""
    sent = upload_fields()
    picture = plate_picture("RSND482")
    first = upload_image(client, token, sent, {"plate": (picture, "p.png")})
    resend = upload_image(client, token, sent, {"plate": (picture, "p.png")})
    later = upload_image(client, token, upload_fields(), {"plate": (picture, "p.png")})
    assert (first.status_code, resend.status_code, later.status_code) == (201, 200, 201)
    assert resend.get_json()["outcome"] == "duplicate"
    assert resend.get_json()["read_id"] == first.get_json()["read_id"]
    assert count_rows(session, Read) == 2, "the same picture at another instant is another read"
    session.commit()
    assert session.scalar(select(func.sum(ActiveUsePeriod.plates_read))) == 2


def test_read_with_a_camera_plate_is_ingested_and_matched_without_ocr(client, session, token):
    load_hotlist(session, "test", b"plate,category\nHOT123,stolen_vehicle\n")
    session.commit()
    response = upload_image(
        client,
        token,
        upload_fields(plate="hot-123"),
        {"vehicle": (blank_picture("JPEG"), "v.jpg"), "overview": (blank_picture("WEBP"), "o")},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["plate_status"] == PlateStatus.REPORTED.value
    assert body["ocr_job"] is None
    assert {i["kind"] for i in body["images"]} == {"vehicle", "overview"}
    read = session.get(Read, body["read_id"])
    assert read.plate == "H0T123"  # O folded into 0
    assert read.active_use_period_id is not None
    types = {i.kind: i.content_type for i in read.images}
    assert types == {"vehicle": "image/jpeg", "overview": "image/webp"}
    assert session.scalars(select(Hit).where(Hit.read_id == read.id)).one().category == (
        "stolen_vehicle"
    )
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "read.image_stored")
    ).one()
    assert (entry.subject_type, entry.subject_id) == ("reads", str(read.id))
    assert "H0T123" not in entry.detail.details_json


# --- refusals: nothing stored, no orphan file ----------------------------------------------


def refused(app, session, response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and response.get_json()["error"]
    assert count_rows(session, Read) == 0
    assert stored_files(app) == []
    return response.get_json()


def test_a_text_file_named_jpg_is_refused(client, session, app, token):
    response = upload_image(
        client, token, upload_fields(), {"plate": (b"GET / HTTP/1.1\r\nnot an image\r\n", "x.jpg")}
    )
    body = refused(app, session, response, 422)
    assert body["field"] == "plate"
    assert "not a JPEG, PNG or WebP" in body["error"]


def test_other_image_formats_and_damaged_images_are_refused(client, session, app, token):
    gif = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(gif, "GIF")
    body = refused(
        app,
        session,
        upload_image(client, token, upload_fields(), {"plate": (gif.getvalue(), "p.png")}),
        422,
    )
    assert "GIF images are not accepted" in body["error"]
    truncated = plate_picture(fmt="JPEG")[:600]
    body = refused(
        app,
        session,
        upload_image(client, token, upload_fields(), {"plate": (truncated, "p.jpg")}),
        422,
    )
    assert "damaged or truncated" in body["error"]


def test_an_oversize_picture_is_refused(client, session, app, token, monkeypatch):
    monkeypatch.setitem(app.config, "IMAGE_MAX_BYTES", 2_000)
    picture = plate_picture("BIG1234")
    assert len(picture) > 2_000
    body = refused(
        app,
        session,
        upload_image(client, token, upload_fields(), {"plate": (picture, "p.png")}),
        413,
    )
    assert "larger than 2000 bytes" in body["error"]


def test_a_decompression_bomb_is_refused_by_its_pixel_count():
    bomb = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(bomb, "PNG")  # 50 MP in a few kilobytes
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(ImageRejected, match="the limit is 40000000 pixels"):
        clean_image(bomb.getvalue(), max_bytes=5_000_000)


@pytest.mark.parametrize(
    ("extra", "files", "named"),
    [
        ({"driver_name": "Jane"}, {}, ["driver_name"]),
        ({}, {"face": (blank_picture(), "f.png")}, ["face"]),
        ({"make": "Ford", "colour": "red"}, {}, ["colour", "make"]),
    ],
)
def test_fields_outside_the_statute_are_refused_by_name(
    client, session, app, token, extra, files, named
):
    response = upload_image(
        client, token, upload_fields(**extra), {"plate": (blank_picture(), "p.png"), **files}
    )
    body = refused(app, session, response, 422)
    assert body["fields"] == named
    for name in named:
        assert name in body["error"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            lambda: upload_fields(captured_at=(utcnow() + timedelta(hours=2)).isoformat()),
            "captured_at",
        ),
        (
            lambda: upload_fields(captured_at=(utcnow() - timedelta(days=61)).isoformat()),
            "captured_at",
        ),
        (lambda: upload_fields(captured_at="yesterday"), "captured_at"),
        (lambda: upload_fields(latitude="91"), "latitude"),
        (lambda: upload_fields(longitude="east"), "longitude"),
        (lambda: upload_fields(plate="AB#12"), "plate"),
        ({"latitude": "44", "longitude": "-91"}, "captured_at"),
    ],
)
def test_invalid_read_fields_are_refused(client, session, app, token, data, field):
    body = refused(
        app,
        session,
        upload_image(client, token, when_run(data), {"plate": (blank_picture(), "p.png")}),
        422,
    )
    assert body["field"] == field


def test_missing_pictures_are_refused(client, session, app, token):
    body = refused(app, session, upload_image(client, token, upload_fields()), 422)
    assert "at least one picture" in body["error"]


def test_unknown_and_revoked_devices_are_refused(client, session, app):
    device, token = device_with_token(session)
    picture = {"plate": (blank_picture(), "p.png")}
    assert refused(
        app, session, upload_image(client, "alpr_not-a-token", upload_fields(), picture), 401
    )
    revoke_device(session, "test", device, "stolen camera")
    session.commit()
    body = refused(app, session, upload_image(client, token, upload_fields(), picture), 403)
    assert "revoked" in body["error"]


def test_a_failed_transaction_leaves_no_file_behind(client, session, app, token, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("app.alpr.api.images.create_run", broken)
    response = upload_image(client, token, upload_fields(), {"plate": (plate_picture(), "p.png")})
    assert response.status_code == 500
    assert response.get_json()["error"] == "The request could not be completed."
    assert count_rows(session, Read) == 0
    assert stored_files(app) == []


# --- viewing -------------------------------------------------------------------------------


@pytest.fixture
def stored_read(client, session, token):
    response = upload_image(
        client, token, upload_fields(plate="VIEW12"), {"plate": (plate_picture("VIEW12"), "p.png")}
    )
    assert response.status_code == 201
    return response.get_json()["read_id"]


def test_image_view_needs_a_login(client, stored_read):
    response = client.get(f"/alpr/reads/{stored_read}/images/plate")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("roles", "trained"),
    [
        ((Role.OPERATOR,), False),
        ((Role.AGENCY,), False),
        ((Role.AGENCY,), True),
        ((Role.RECORDS,), True),
    ],
)
def test_image_view_is_refused_without_role_or_training(
    client, session, login_as, stored_read, roles, trained
):
    login_as(*roles, trained=trained)
    assert client.get(f"/alpr/reads/{stored_read}/images/plate").status_code == 403
    assert client.get(f"/alpr/reads/{stored_read}").status_code == 403
    viewed = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "read.image_viewed")
    ).all()
    assert viewed == []


def test_image_view_streams_the_picture_and_is_audited(client, session, login_as, stored_read):
    operator = login_as(Role.OPERATOR)
    via = look_up_read(client, stored_read).headers["Location"].split("?via=")[1]
    response = client.get(f"/alpr/reads/{stored_read}/images/plate?via={via}")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data == plate_picture("VIEW12")
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "read.image_viewed")
    ).one()
    assert (entry.actor_user_id, entry.subject_type, entry.subject_id) == (
        operator.id,
        "reads",
        str(stored_read),
    )
    details = json.loads(entry.detail.details_json)
    assert (details["read_id"], details["context"]) == (stored_read, via)
    assert client.get(f"/alpr/reads/{stored_read}/images/vehicle?via={via}").status_code == 404
    assert client.get(f"/alpr/reads/{stored_read}/images/face?via={via}").status_code == 404


def test_read_detail_shows_the_read_with_its_pictures_and_is_audited(
    client, session, login_as, stored_read
):
    login_as(Role.OPERATOR)
    location = look_up_read(client, stored_read).headers["Location"]
    via = location.split("?via=")[1]
    response = client.get(location)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "VIEW12" in html
    assert f'src="/alpr/reads/{stored_read}/images/plate?via={via}"' in html
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "read.viewed")).one()
    assert entry.subject_id == str(stored_read)
    assert look_up_read(client, 999999).status_code == 404
