"""The image store: a local folder or an S3-compatible bucket (moto's server on loopback).

Each store keeps a picture once under its digest, gives it back, deletes it, and says clearly
when it is missing. With ``ALPR_IMAGE_STORE=s3://…`` the app uploads into the bucket, shows a
picture from it, and the retention purge deletes it there. With the bucket's server stopped an
upload is a clean 503 that stores no read, and an object written before the store went down is
removed by the next purge.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer
from sqlalchemy import select

from app.audit.services import verify
from app.auth.models import Role
from app.db import db_session, utcnow
from app.reads.image_store import (
    ImageMissing,
    ImageStoreUnavailable,
    LocalImageStore,
    S3ImageStore,
    image_store,
    parse_s3_location,
)
from app.reads.images import clean_image, current_image_store
from app.reads.models import Read, ReadImage
from app.retention.models import ImageTombstone
from tests.factories import UserFactory
from tests.helpers import (
    _free_port,
    blank_picture,
    count_rows,
    device_with_token,
    login,
    look_up_read,
    plate_picture,
    run_purge,
    upload_fields,
    upload_image,
)

BUCKET = "alpr-images"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3-compatible server on a free loopback port, with one bucket."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    with pytest.MonkeyPatch.context() as env:
        for name, value in (
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ):
            env.setenv(name, value)
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        try:
            yield endpoint
        finally:
            server.stop()


def objects(endpoint: str, prefix: str) -> list[str]:
    """The keys in the bucket under `prefix`."""
    listing = boto3.client("s3", endpoint_url=endpoint).list_objects_v2(
        Bucket=BUCKET, Prefix=prefix
    )
    return [item["Key"] for item in listing.get("Contents", [])]


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalImageStore(tmp_path / "images")
    endpoint = request.getfixturevalue("s3_endpoint")
    return image_store(f"s3://{BUCKET}/{uuid.uuid4().hex}", endpoint)


def test_a_picture_is_kept_once_read_back_and_deleted(store):
    data = b"\xff\xd8 a picture's bytes"
    digest = hashlib.sha256(data).hexdigest()
    assert not store.exists(digest)
    assert store.put(digest, data) is True
    assert store.put(digest, data) is False, "the same bytes are stored once"
    assert store.exists(digest) and store.get(digest) == data
    assert store.delete(digest) is True
    assert store.delete(digest) is False
    assert not store.exists(digest)
    with pytest.raises(ImageMissing):
        store.get(digest)
    with pytest.raises(ValueError, match="SHA-256"):
        store.get("../../etc/passwd")


def test_keys_follow_the_local_layout_under_the_prefix(s3_endpoint):
    prefix = uuid.uuid4().hex
    store = image_store(f"s3://{BUCKET}/{prefix}/", s3_endpoint)
    digest = hashlib.sha256(b"x").hexdigest()
    store.put(digest, b"x")
    store.put(digest, b"x")
    assert objects(s3_endpoint, prefix) == [f"{prefix}/{digest[:2]}/{digest[2:4]}/{digest}"]
    assert parse_s3_location("s3://bucket") == ("bucket", "")
    for wrong in ("s3:///images", "https://bucket/images"):
        with pytest.raises(ValueError, match="s3://bucket"):
            parse_s3_location(wrong)


def test_a_store_that_does_not_answer_is_not_taken_for_a_missing_picture(s3_endpoint):
    quick = Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=1)
    down = S3ImageStore(
        boto3.client("s3", endpoint_url=f"http://127.0.0.1:{_free_port()}", config=quick),
        BUCKET,
    )
    digest = hashlib.sha256(b"y").hexdigest()
    for call in (down.get, down.exists, down.delete):
        with pytest.raises(ImageStoreUnavailable):
            call(digest)
    no_bucket = image_store(f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}", s3_endpoint)
    with pytest.raises(ImageStoreUnavailable):
        no_bucket.put(digest, b"y")


def test_the_app_on_an_s3_store_uploads_shows_and_purges_there(make_app, session, s3_endpoint):
    prefix = uuid.uuid4().hex
    app = make_app(IMAGE_STORE=f"s3://{BUCKET}/{prefix}", S3_ENDPOINT_URL=s3_endpoint)
    client = app.test_client()
    with app.app_context():
        _, token = device_with_token(db_session())
    picture = plate_picture()
    read_ids = []
    for plate in ("ABC123", "ABC124"):
        response = upload_image(
            client, token, upload_fields(plate=plate), {"plate": (picture, "p.png")}
        )
        assert response.status_code == 201, response.get_json()
        read_ids.append(response.get_json()["read_id"])
    [key] = objects(s3_endpoint, prefix)
    digest = key.rsplit("/", 1)[1]
    with app.app_context():
        stored = current_image_store().get(digest)
    assert hashlib.sha256(stored).hexdigest() == digest, "two reads, one object"

    user = UserFactory(roles=(Role.OPERATOR,), trained=True)
    assert login(client, user.email).status_code == 302
    opened = look_up_read(client, read_ids[0])
    via = re.search(r"via=([^&]+)", opened.headers["Location"]).group(1)
    shown = client.get(f"/alpr/reads/{read_ids[0]}/images/plate?via={via}")
    assert shown.status_code == 200 and shown.data == stored

    boto3.client("s3", endpoint_url=s3_endpoint).delete_object(Bucket=BUCKET, Key=key)
    gone = client.get(f"/alpr/reads/{read_ids[0]}/images/plate?via={via}")
    assert gone.status_code == 404 and b"no longer in the image store" in gone.data
    down = make_app(
        IMAGE_STORE=f"s3://{BUCKET}/{prefix}", S3_ENDPOINT_URL=f"http://127.0.0.1:{_free_port()}"
    )
    down_client = down.test_client()
    assert login(down_client, user.email).status_code == 302
    waiting = down_client.get(f"/alpr/reads/{read_ids[0]}/images/plate?via={via}")
    assert waiting.status_code == 503, "a store that does not answer is not a missing picture"

    with app.app_context():
        current_image_store().put(digest, stored)
    result = run_purge(app, now=utcnow() + timedelta(days=62))
    assert (result.reads_destroyed, result.images_destroyed) == (2, 2)  # rows: one object
    assert objects(s3_endpoint, prefix) == [], "the purge deleted the picture from the bucket"


def test_an_upload_while_the_s3_store_is_down_is_a_clean_503_that_leaves_nothing(
    make_app, session, s3_endpoint
):
    """The bucket's server stops between an upload's two pictures, then for a whole upload.

    Neither read is stored; the picture written before the stop is tombstoned (the store
    could not be asked to delete it) and the next purge removes it once the store is back,
    while a resent upload's pictures stay.
    """
    port = _free_port()  # a server of this test's own (moto's state is shared: same bucket)
    endpoint = f"http://127.0.0.1:{port}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    prefix = uuid.uuid4().hex
    app = make_app(IMAGE_STORE=f"s3://{BUCKET}/{prefix}", S3_ENDPOINT_URL=endpoint)
    client = app.test_client()
    _, token = device_with_token(session)
    with app.app_context():
        store = current_image_store()
    stopped = []

    def stop_after_first_put(**_kwargs) -> None:
        if not stopped:
            server.stop()
            stopped.append(True)

    store.client.meta.events.register("after-call.s3.PutObject", stop_after_first_put)
    first = {"plate": (plate_picture("DWN111"), "p.png"), "vehicle": (blank_picture(), "v.png")}
    second = {"plate": (plate_picture("DWN222"), "p.png")}
    digests = {
        name: hashlib.sha256(clean_image(data, max_bytes=10**7).data).hexdigest()
        for name, (data, _) in (("first", first["plate"]), ("second", second["plate"]))
    }

    answers = [
        upload_image(client, token, upload_fields(plate="DWN111", client_read_id="a"), first),
        upload_image(client, token, upload_fields(plate="DWN222", client_read_id="b"), second),
    ]
    assert stopped, "the store went down after the first picture was written"
    for answer in answers:
        assert answer.status_code == 503, answer.get_json()
        assert answer.headers["Retry-After"] == "5"
        assert answer.get_json() == {
            "error": "The image store is unavailable; nothing was stored. Try again shortly.",
            "status": 503,
        }
    session.expire_all()
    assert (count_rows(session, Read), count_rows(session, ReadImage)) == (0, 0)
    assert {digests["first"], digests["second"]} <= set(
        session.scalars(select(ImageTombstone.sha256))
    )

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        assert [key.rsplit("/", 1)[1] for key in objects(endpoint, prefix)] == [digests["first"]], (
            "the first upload's plate picture was written, and no row refers to it"
        )
        resent = upload_image(
            client, token, upload_fields(plate="DWN222", client_read_id="b"), second
        )
        assert resent.status_code == 201, resent.get_json()
        run_purge(app)
        assert [key.rsplit("/", 1)[1] for key in objects(endpoint, prefix)] == [
            digests["second"]
        ], "the purge removed the orphan and kept the resent read's picture"
    finally:
        server.stop()
    session.rollback()  # a new snapshot (SQLite's observer reads in one otherwise)
    assert session.scalars(select(ImageTombstone)).all() == []
    assert session.scalars(select(ReadImage.sha256)).all() == [digests["second"]]
    session.commit()
    assert verify(session).ok
