"""Camera routes: each vendor's authentication refused when wrong, and hostile payloads."""

from __future__ import annotations

import io
import json
import time

import pytest
from sqlalchemy import select

from app.alpr.adapters.signatures import FRESHNESS_SECONDS, sign, signing_secret
from app.alpr.devices import revoke_device
from app.reads.models import CameraDiscard, Device, Read
from tests.helpers import (
    camera_device,
    camera_sample,
    count_rows,
    device_with_token,
    post_camera,
    recent_epoch_ms,
)


def group(epoch_ms: int | None = None) -> dict:
    payload = camera_sample("openalpr-alpr_group-1.json")
    payload["epoch_start"] = epoch_ms or recent_epoch_ms()
    payload["epoch_end"] = payload["epoch_start"] + 2000
    return payload


# --- authentication ---------------------------------------------------------------------------


def test_no_credential_is_401_and_names_the_schemes(client, session):
    camera_device(session, "openalpr")
    response = post_camera(client, "openalpr", group())
    assert response.status_code == 401
    assert "custom_data" in response.get_json()["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
def test_an_unknown_header_token_is_401(client, session, scheme):
    camera_device(session, "platerecognizer")
    response = post_camera(
        client,
        "platerecognizer",
        {"data": {"results": []}},
        headers={"Authorization": f"{scheme} alpr_not-a-token"},
    )
    assert response.status_code == 401


def test_url_token_works_and_a_wrong_one_is_401(client, session):
    _, token = camera_device(session, "openalpr")
    assert post_camera(client, "openalpr", group(), query=f"?token={token}").status_code == 200
    assert post_camera(client, "openalpr", group(), query="?token=alpr_wrong").status_code == 401


def test_rekor_custom_data_secret(client, session):
    _, token = camera_device(session, "openalpr")
    accepted = group()
    accepted["custom_data"] = {"API_KEY": token, "site": "north"}
    assert post_camera(client, "openalpr", accepted).status_code == 200
    refused = group(recent_epoch_ms(2))
    refused["custom_data"] = {"API_KEY": token[:-2] + "\x00x"}
    assert post_camera(client, "openalpr", refused).status_code == 401
    as_text = group(recent_epoch_ms(3))
    as_text["custom_data"] = json.dumps({"API_KEY": token})
    assert post_camera(client, "openalpr", as_text).status_code == 200
    assert count_rows(session, Read) == 2


def test_a_revoked_camera_is_403(client, session):
    device, token = camera_device(session, "openalpr")
    revoke_device(session, "test", session.merge(device))
    session.commit()
    assert post_camera(client, "openalpr", group(), token=token).status_code == 403


def test_a_camera_posts_only_in_its_registered_format(client, session):
    _, token = camera_device(session, "axis")
    response = post_camera(client, "openalpr", group(), token=token)
    assert response.status_code == 403
    assert "registered to post axis" in response.get_json()["error"]
    _, plain = device_with_token(session, "JSON-ONLY-1")
    assert post_camera(client, "openalpr", group(), token=plain).status_code == 403
    assert count_rows(session, Read) == 0


def test_unknown_format_is_401_without_credential_and_404_with(client, session):
    _, token = camera_device(session, "openalpr")
    assert post_camera(client, "hikvision", group()).status_code == 401
    assert post_camera(client, "hikvision", group(), token=token).status_code == 404


def verkada_body() -> bytes:
    payload = camera_sample("verkada-lpr-1.json")
    payload["data"]["detected"] = recent_epoch_ms()
    return json.dumps(payload).encode()


@pytest.mark.parametrize("fault", ["wrong secret", "stale", "future", "malformed", "tampered"])
def test_verkada_signature_refused(client, session, app, fault):
    _, token = camera_device(session, "verkada")
    body = verkada_body()
    secret = signing_secret(app.config["SECRET_KEY"], token)
    now = int(time.time())
    header = {
        "wrong secret": sign("not-the-secret", body, now),
        "stale": sign(secret, body, now - FRESHNESS_SECONDS - 5),
        "future": sign(secret, body, now + FRESHNESS_SECONDS + 5),
        "malformed": "sha256=" + sign(secret, body, now).partition("|")[2],
        "tampered": sign(secret, body.replace(b"ABCD123", b"ABCD124"), now),
    }[fault]
    response = client.post(
        "/api/v1/cameras/verkada",
        data=body,
        headers={"Verkada-Signature": header},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert count_rows(session, Read) == 0


def test_verkada_secret_changes_with_the_token(client, session, app):
    from app.alpr.devices import rotate_token

    device, token = camera_device(session, "verkada")
    new_token = rotate_token(session, "test", session.merge(device))
    session.commit()
    body = verkada_body()
    old = sign(signing_secret(app.config["SECRET_KEY"], token), body, int(time.time()))
    headers = {"Verkada-Signature": old}
    assert post_camera(client, "verkada", body, headers=headers).status_code == 401
    new = sign(signing_secret(app.config["SECRET_KEY"], new_token), body, int(time.time()))
    response = post_camera(client, "verkada", body, headers={"Verkada-Signature": new})
    assert response.status_code == 422  # signed by the camera; a mobile one has no position
    assert "no position" in response.get_json()["error"]


# --- hostile and broken payloads ------------------------------------------------------------


def test_deeply_nested_json_is_400(client, session):
    _, token = camera_device(session, "openalpr")
    body = "[" * 100_000 + "]" * 100_000
    response = post_camera(client, "openalpr", body, token=token)
    assert response.status_code == 400
    assert response.get_json()["error"]


@pytest.mark.parametrize(
    "body",
    ['{"data_type": "alpr_group", "epoch_start": ' + "9" * 5000 + "}", '{"x": NaN}', "", "{"],
)
def test_unparseable_bodies_are_400(client, session, body):
    _, token = camera_device(session, "openalpr")
    assert post_camera(client, "openalpr", body, token=token).status_code == 400


def test_huge_and_infinite_numbers_are_422(client, session):
    _, token = camera_device(session, "openalpr")
    payload = group()
    payload["gps_latitude"] = 1e308
    assert post_camera(client, "openalpr", payload, token=token).status_code == 422
    raw = json.dumps(group()).replace('"epoch_start": ', '"epoch_start": 1e999, "x": ', 1)
    assert post_camera(client, "openalpr", raw, token=token).status_code == 422
    assert count_rows(session, Read) == 0


def test_wrong_content_type_is_415(client, session):
    _, token = camera_device(session, "openalpr")
    response = client.post(
        "/api/v1/cameras/openalpr",
        data={"json": json.dumps(group())},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 415
    response = client.post(
        "/api/v1/cameras/openalpr",
        data="<read/>",
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/xml",
    )
    assert response.status_code == 415


def test_oversized_multipart_part_is_413_and_nothing_stored(client, session, app):
    _, token = camera_device(session, "axis")
    event = camera_sample("axis-lpv-event-1.json")
    event["capture_timestamp"] = str(recent_epoch_ms())
    big = b"\xff\xd8" + b"\0" * (app.config["IMAGE_MAX_BYTES"] + 10)
    response = client.post(
        "/api/v1/cameras/axis",
        data={"event": json.dumps(event), "image": (io.BytesIO(big), "big.jpg")},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert response.get_json()["status"] == 413
    assert count_rows(session, Read) == 0


def test_a_broken_picture_refuses_the_read_whole(client, session):
    _, token = camera_device(session, "openalpr")
    payload = group()
    payload["vehicle_crop_jpeg"] = "bm90IGEgcGljdHVyZQ=="  # "not a picture"
    response = post_camera(client, "openalpr", payload, token=token)
    assert response.status_code == 422 and "vehicle picture" in response.get_json()["error"]
    payload["vehicle_crop_jpeg"] = "%%% not base64 %%%"
    assert post_camera(client, "openalpr", payload, token=token).status_code == 422
    assert count_rows(session, Read) == 0


def test_nul_characters_never_reach_the_database(client, session):
    device, token = camera_device(session, "openalpr")
    payload = group()
    payload["best_plate_number"] = "D265\x001BF"
    payload["\x00evil key"] = "x"
    body = post_camera(client, "openalpr", payload, token=token).get_json()
    assert (body["stored"], body["discarded"]) == (0, 1)
    assert body["discard_reasons"] == {"(read whose plate is not a plate)": 1}
    session.rollback()
    names = set(
        session.scalars(select(CameraDiscard.field).where(CameraDiscard.device_id == device.id))
    )
    assert "(a field with an unusual name)" in names
    assert not any("\x00" in name for name in names)


def test_a_future_time_refuses_the_payload_as_the_json_api_does(client, session):
    _, token = camera_device(session, "openalpr")
    payload = group(recent_epoch_ms(-2))  # two hours ahead
    response = post_camera(client, "openalpr", payload, token=token)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["errors"] == ["captured_at: is in the future"]
    session.rollback()
    assert session.scalar(select(Device.last_seen_at)) is None  # nothing of it was kept


# --- registration from the command line (the README's contract) -----------------------------


def test_cli_registers_a_camera_format_and_prints_the_token_last(app, client, session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "devices",
            "create",
            "--serial",
            "SCOUT-1",
            "--kind",
            "mobile",
            "--format",
            "openalpr",
        ]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert post_camera(client, "openalpr", group(), token=token).get_json()["stored"] == 1
    verkada = runner.invoke(
        args=["devices", "create", "--serial", "VK-1", "--kind", "fixed", "--format", "verkada"]
    )
    lines = verkada.output.strip().splitlines()
    assert lines[-2] == "API token (shown once; store it in the camera now):"
    secret = signing_secret(app.config["SECRET_KEY"], lines[-1])
    assert f"Verkada webhook shared secret (shown once): {secret}" in verkada.output
    genetec = runner.invoke(
        args=[
            "devices",
            "create",
            "--serial",
            "G-1",
            "--kind",
            "mobile",
            "--format",
            "genetec",
            "--date-order",
            "dmy",
        ]
    )
    assert genetec.exit_code == 0, genetec.output
    session.rollback()
    stored = {d.serial: (d.camera_format, d.date_order) for d in session.scalars(select(Device))}
    assert stored == {
        "SCOUT-1": ("openalpr", None),
        "VK-1": ("verkada", None),
        "G-1": ("genetec", "DMY"),
    }
    refused = runner.invoke(
        args=["devices", "create", "--serial", "X-1", "--kind", "mobile", "--format", "hikvision"]
    )
    assert refused.exit_code != 0
