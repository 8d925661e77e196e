"""Payloads of each camera format that are not the shared samples, through their routes.

Each variant is built here from the vendor's published format (SPEC.md and the sources it
names), not copied from a sample: newer and older OpenALPR agents (group versions 2 and 3,
without the best frame's time or the scene picture, with no or a zero position, with numbers
sent as text), Rekor Scout's alert and ``"data_type": null`` wrappers, Plate Recognizer
Stream's flat and nested result shapes and Snapshot's webhook (``hook.id`` a number,
``data.camera_id`` null) in every transport they use, Axis License Plate Verifier's multipart
event, Genetec's date and time spellings (parkpow's ``snapshot-middleware/test/Genetec.json``
gives the field set) and Verkada's signed webhook as both versions of its documentation show it.

Each stored read is checked field by field: the plate in the one spelling, the time in UTC to
the millisecond, the payload's position or the deployment's, the pictures and their kinds; and
the values the adapters drop (colour, make, region, direction, licence keys, stream URLs, the
vehicle signature, hotlist names) are looked for in every text column. The last part posts
hostile input to every route: each must be refused with a JSON 4xx, or counted as a discard,
with nothing stored in part.
"""

from __future__ import annotations

import base64
import io
import json
from datetime import datetime, timedelta
from urllib.parse import quote_from_bytes

import pytest

from app.db import utcnow
from app.reads.models import CameraDiscard, Read
from tests.helpers import (
    GREY_JPEG,
    at_ms,
    camera_device,
    count_rows,
    discards,
    fixed_camera,
    iso,
    leaked,
    post_camera,
    recent_epoch_ms,
    signed_post,
    stored_reads,
)

GREY_B64 = base64.b64encode(GREY_JPEG).decode()
#: Where fixed_camera's deployment stands: a read without a position of its own is put here.
DEPLOYMENT = (44.0521, -91.6393)
#: A stream URL as agents and Stream configure it: credentials in clear.
RTSP_URL = "rtsp://operator:pw-91xq@10.9.8.7:554/Streaming/Channels/101"
VEHICLE_SIGNATURE = "1h_" + "9c4e0b7a" * 120


def kinds(read: Read) -> list[str]:
    return sorted(image.kind for image in read.images)


def form_post(client, camera_format: str, fields: dict, headers: dict, *, urlencoded=False):
    """POST form fields and file parts, as a multipart (or urlencoded) camera sends them."""
    return client.post(
        f"/api/v1/cameras/{camera_format}",
        data=fields,
        headers=headers,
        content_type="application/x-www-form-urlencoded" if urlencoded else "multipart/form-data",
    )


def jpeg_part(name: str = "image.jpg") -> tuple[io.BytesIO, str]:
    return io.BytesIO(GREY_JPEG), name


# --- OpenALPR agent and Rekor Scout (docs.rekor.ai "JSON Group Results") --------------------

AGENT_UID = "AGENTVARIANT7Q2M9X4R1T8W3E6Y5U0I2O9P4A7S"
OPENALPR_DROPPED = {
    "aubergine",
    "studebakerish",
    "studebakerish_lark",
    "1960-1964",
    "us-wy",
    "7A8C123",
    "North Gate lane 2",
    "gatehouse-agent",
    "c0ffee00-1111-2222-3333-444455556666",
    AGENT_UID,
    VEHICLE_SIGNATURE,
    "187.25",
}


def openalpr_group(start_ms: int, *, version: int = 3, plate: str = "7ABC123") -> dict:
    """A group as an agent of `version` writes it (3: agent 4.x, with the best frame's time)."""
    best_ms = start_ms + 1150
    group = {
        "data_type": "alpr_group",
        "version": version,
        "epoch_start": start_ms,
        "epoch_end": start_ms + 2400,
        "frame_start": 311,
        "frame_end": 340,
        "company_id": "c0ffee00-1111-2222-3333-444455556666",
        "agent_uid": AGENT_UID,
        "agent_version": "4.1.3" if version >= 3 else "2.7.101",
        "agent_type": "alprd",
        "camera_id": 1873243,
        "gps_latitude": 44.977753,
        "gps_longitude": -93.265015,
        "country": "us",
        "uuids": [f"{AGENT_UID}-1873243-{start_ms}", f"{AGENT_UID}-1873243-{best_ms}"],
        "plate_indexes": [0, 0],
        "candidates": [
            {"plate": plate, "confidence": 91.2, "matches_template": 1},
            {"plate": "7A8C123", "confidence": 70.4, "matches_template": 1},
        ],
        "best_plate": {
            "plate": plate,
            "confidence": 91.2,
            "matches_template": 1,
            "plate_index": 0,
            "region": "us-wy",
            "region_confidence": 88,
            "processing_time_ms": 7.1,
            "requested_topn": 10,
            "coordinates": [{"x": 601, "y": 294}, {"x": 656, "y": 284}],
            "plate_crop_jpeg": GREY_B64,
            "vehicle_region": {"x": 222, "y": 74, "width": 522, "height": 386},
            "candidates": [{"plate": plate, "confidence": 91.2, "matches_template": 1}],
        },
        "best_confidence": 91.2,
        "best_plate_number": plate,
        "best_region": "us-wy",
        "best_region_confidence": 80.5,
        "matches_template": True,
        "vehicle_crop_jpeg": GREY_B64,
        "best_uuid": f"{AGENT_UID}-1873243-{best_ms}",
        "best_image_width": 1920,
        "best_image_height": 1080,
        "travel_direction": 187.25,
        "is_parked": False,
        "vehicle": {
            "color": [{"name": "aubergine", "confidence": 91.0}],
            "make": [{"name": "studebakerish", "confidence": 80.0}],
            "make_model": [{"name": "studebakerish_lark", "confidence": 60.0}],
            "body_type": [{"name": "sedan-standard", "confidence": 77.0}],
            "year": [{"name": "1960-1964", "confidence": 50.0}],
            "orientation": [{"name": "180", "confidence": 99.0}],
        },
    }
    if version >= 3:
        group.update(
            {
                "vehicle_path": [{"x": 204, "y": 130, "w": 739, "h": 454, "t": -48, "f": -1}],
                "plate_path": [{"x": 796, "y": 368, "w": 54, "h": 11, "t": 0, "f": 0}],
                "overview_jpeg": GREY_B64,
                "best_uuid_epoch_ms": best_ms,
                "is_preview": False,
                "vehicle_signature": VEHICLE_SIGNATURE,
                "web_server_config": {
                    "camera_label": "North Gate lane 2",
                    "agent_label": "gatehouse-agent",
                },
                "direction_of_travel_id": 1,
            }
        )
    return group


def test_openalpr_v3_group_from_the_agent_keeps_the_best_frame_and_all_pictures(client, session):
    _, token = camera_device(session, "openalpr")
    start = recent_epoch_ms()
    response = post_camera(client, "openalpr", openalpr_group(start), query=f"?token={token}")
    assert response.status_code == 200, response.get_json()
    (read,) = stored_reads(session)
    assert read.plate == "7ABC123"
    assert read.captured_at == at_ms(start + 1150)  # best_uuid_epoch_ms, inside the pass
    assert (read.latitude, read.longitude) == (44.977753, -93.265015)
    assert kinds(read) == ["overview", "plate", "vehicle"]
    assert leaked(session, OPENALPR_DROPPED) == set()
    fields = discards(session)
    for name in ("vehicle.color", "vehicle.make", "vehicle_signature", "best_region"):
        assert fields[name] == 1, name
    assert fields["travel_direction"] == 1 and fields["web_server_config"] == 1


def test_openalpr_v2_group_without_best_frame_scene_or_position_uses_the_deployment(
    client, session
):
    _, token = fixed_camera(session, "openalpr")
    start = recent_epoch_ms()
    group = openalpr_group(start, version=2)
    del group["gps_latitude"], group["gps_longitude"]
    response = post_camera(client, "openalpr", group, query=f"?token={token}")
    assert response.status_code == 200, response.get_json()
    (read,) = stored_reads(session)
    assert read.captured_at == at_ms(start)  # no best frame: the pass's start
    assert (read.latitude, read.longitude) == DEPLOYMENT
    assert kinds(read) == ["plate", "vehicle"]


@pytest.mark.parametrize(
    "position", [(0, 0), (0.0, 0.0), ("0", "0"), ("0.000000", "0.000000"), (None, None)]
)
def test_openalpr_zero_or_null_position_is_no_position(client, session, position):
    _, token = fixed_camera(session, "openalpr")
    group = openalpr_group(recent_epoch_ms())
    group["gps_latitude"], group["gps_longitude"] = position
    assert post_camera(client, "openalpr", group, token=token).status_code == 200
    assert (stored_reads(session)[0].latitude, stored_reads(session)[0].longitude) == DEPLOYMENT


def test_openalpr_numbers_sent_as_text_are_read_as_numbers(client, session):
    _, token = camera_device(session, "openalpr")
    start = recent_epoch_ms()
    group = openalpr_group(start)
    for name in ("epoch_start", "epoch_end", "best_uuid_epoch_ms", "camera_id"):
        group[name] = str(group[name])
    group["gps_latitude"], group["gps_longitude"] = "44.977753", "-93.265015"
    group["best_confidence"] = "91.2"
    response = post_camera(client, "openalpr", group, token=token)
    assert response.status_code == 200, response.get_json()
    (read,) = stored_reads(session)
    assert read.captured_at == at_ms(start + 1150)
    assert (read.latitude, read.longitude) == (44.977753, -93.265015)


def test_openalpr_group_plate_number_wins_over_the_best_plates_text(client, session):
    _, token = camera_device(session, "openalpr")
    group = openalpr_group(recent_epoch_ms())
    group["best_plate_number"] = " 7abc123 "
    group["best_plate"]["plate"] = "7A8C123"
    assert post_camera(client, "openalpr", group, token=token).get_json()["stored"] == 1
    assert stored_reads(session)[0].plate == "7ABC123"


def test_openalpr_daemon_posting_json_under_libcurls_default_type(client, session):
    """alprd's ``uploadPost`` sets no Content-Type: libcurl sends it as urlencoded."""
    _, token = camera_device(session, "openalpr")
    start = recent_epoch_ms()
    response = client.post(
        f"/api/v1/cameras/openalpr?token={token}",
        data=json.dumps(openalpr_group(start, version=2)),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.get_json()
    (read,) = stored_reads(session)
    assert (read.plate, read.captured_at) == ("7ABC123", at_ms(start))
    assert kinds(read) == ["plate", "vehicle"]


def test_open_source_daemons_per_frame_results_are_acknowledged_not_stored(client, session):
    """The open-source alprd's message: a frame's results, with uuid, site_id and camera_id."""
    _, token = camera_device(session, "openalpr")
    start = recent_epoch_ms()
    frame = {
        "version": 2,
        "data_type": "alpr_results",
        "epoch_time": start,
        "img_width": 1280,
        "img_height": 720,
        "processing_time_ms": 61.2,
        "regions_of_interest": [],
        "results": [
            {
                "plate": "7ABC123",
                "confidence": 91.2,
                "matches_template": 1,
                "plate_index": 0,
                "region": "us-wy",
                "region_confidence": 88,
                "processing_time_ms": 7.1,
                "requested_topn": 10,
                "coordinates": [{"x": 601, "y": 294}],
                "candidates": [{"plate": "7ABC123", "confidence": 91.2, "matches_template": 1}],
            }
        ],
        "uuid": f"north-yard-cam1873243-{start}",
        "camera_id": 1873243,
        "site_id": "north-yard",
    }
    body = post_camera(client, "openalpr", frame, token=token).get_json()
    assert (body["stored"], body["discarded"]) == (0, 1)
    assert count_rows(session, Read) == 0
    del frame["data_type"], frame["version"]  # the open-source daemon names no type
    body = post_camera(client, "openalpr", frame, token=token).get_json()
    assert (body["stored"], body["discarded"]) == (0, 1)


def test_scout_alert_with_custom_data_and_its_plain_group_are_one_read(client, session):
    _, token = camera_device(session, "openalpr")
    start = recent_epoch_ms()
    group = openalpr_group(start)
    group["custom_data"] = {"API_KEY": token, "site": "north-yard"}
    alert = {
        "data_type": "alpr_alert",
        "version": 2,
        "epoch_time": start + 1150,
        "agent_uid": AGENT_UID,
        "alert_list": "Stolen vehicles - county",
        "alert_list_id": 4471,
        "site_name": "north-yard-site",
        "camera_name": "North Gate lane 2",
        "camera_number": 1873243,
        "plate_number": "7ABC123",
        "description": "Hotlist note: seen near the quarry",
        "list_type": "Blacklist",
        "custom_data": {"API_KEY": token},
        "group": {key: value for key, value in group.items() if key != "custom_data"},
    }
    first = post_camera(client, "openalpr", alert)
    second = post_camera(client, "openalpr", group)
    assert first.status_code == 200, first.get_json()
    assert (first.get_json()["stored"], second.get_json()["duplicate"]) == (1, 1)
    (read,) = stored_reads(session)
    assert (read.plate, read.captured_at) == ("7ABC123", at_ms(start + 1150))
    hotlist = {"Stolen vehicles - county", "quarry", "Blacklist", "north-yard", token}
    assert leaked(session, OPENALPR_DROPPED | hotlist) == set()
    assert {"alert_list", "description", "list_type"} <= set(discards(session))


def test_alert_wrapper_with_null_data_type_is_read_as_its_group(client, session):
    _, token = camera_device(session, "openalpr")
    start = recent_epoch_ms()
    wrapper = {"data_type": None, "version": 0, "epoch_time": 0, "group": openalpr_group(start)}
    response = post_camera(client, "openalpr", wrapper, token=token)
    assert response.get_json()["stored"] == 1, response.get_json()
    assert stored_reads(session)[0].captured_at == at_ms(start + 1150)


def test_heartbeat_of_a_newer_agent_keeps_nothing_of_its_licence_or_streams(client, session):
    _, token = camera_device(session, "openalpr")
    heartbeat = {
        "data_type": "heartbeat",
        "version": 2,
        "company_id": "c0ffee00-1111-2222-3333-444455556666",
        "agent_uid": AGENT_UID,
        "agent_hostname": "gatehouse-host-07",
        "agent_version": "4.1.3",
        "openalpr_version": "2.8.101",
        "os": "linux",
        "license_key": "LICKEY-7f3a9c2b-valid-until-2027",
        "license_systemid": "SYSID-55218841",
        "license_valid": True,
        "recording_enabled": True,
        "is_cloud_agent": False,
        "timestamp": recent_epoch_ms(),
        "system_uptime_seconds": 88123,
        "daemon_uptime_seconds": 4411,
        "cpu_cores": 8,
        "cpu_last_update": recent_epoch_ms(),
        "cpu_usage_percent": 41.5,
        "disk_quota_total_bytes": 8_000_000_000,
        "memory_total_bytes": 16_000_000_000,
        "beanstalk_queue_size": 0,
        "video_streams": [
            {
                "camera_id": 1873243,
                "camera_name": "North Gate lane 2",
                "url": RTSP_URL,
                "fps": 14.8,
                "is_streaming": True,
                "gps_latitude": 44.977753,
                "gps_longitude": -93.265015,
                "last_plate_read": recent_epoch_ms(),
                "last_update": recent_epoch_ms(),
            }
        ],
    }
    body = post_camera(client, "openalpr", heartbeat, token=token).get_json()
    assert body["stored"] == 0
    secrets = {"LICKEY-7f3a9c2b", "SYSID-55218841", "rtsp://", "pw-91xq", "10.9.8.7"}
    assert leaked(session, secrets | {"gatehouse-host-07", "North Gate lane 2"}) == set()
    assert {"license_key", "video_streams.url"} <= set(discards(session))


# --- Plate Recognizer Stream and Snapshot (webhook_preview/types/webhook.ts) ---------------

PR_DROPPED = {
    "us-wy",
    "Pickup Truck",
    "Studebakerish",
    "Larkish",
    "aubergine",
    "mn9zk4z",
    "MN9ZK4Z",
    "gate-2-userdata",
    "north-gate-2_screenshots",
    "rtsp://",
    "pw-91xq",
    "records.example",
}


def stream_flat_result(plate: str) -> dict:
    """A result in Stream's first ("type 1") shape, with the fields newer versions add."""
    return {
        "box": {"xmin": 460, "ymin": 57, "xmax": 557, "ymax": 82},
        "plate": plate,
        "region": {"code": "us-wy", "score": 0.91},
        "score": 0.902,
        "candidates": [{"score": 0.902, "plate": plate}, {"score": 0.7, "plate": "mn9zk4z"}],
        "dscore": 0.83,
        "vehicle": {"score": 0.77, "type": "Pickup Truck", "box": {"xmin": 1, "ymin": 2}},
        "model_make": [{"make": "Studebakerish", "model": "Larkish", "score": 0.4}],
        "color": [{"color": "aubergine", "score": 0.6}],
        "orientation": [{"orientation": "Rear", "score": 0.9}],
        "direction": 212,
        "speed": 38.4,
        "speed_score": 0.8,
        "source_url": RTSP_URL,
        "position_sec": 12.4,
        "user_data": "gate-2-userdata",
    }


def stream_nested_result(plate: str) -> dict:
    """A result in Stream's newer ("type 2") shape: plate and vehicle are objects."""
    box = {"xmin": 460, "ymin": 57, "xmax": 557, "ymax": 82}
    return {
        "plate": {
            "type": "Plate",
            "score": 0.88,
            "box": box,
            "props": {
                "plate": [{"value": plate, "score": 0.934}, {"value": "mn9zk4z", "score": 0.2}],
                "region": [{"value": "us-wy", "score": 0.91}],
            },
        },
        "vehicle": {
            "type": "Pickup Truck",
            "score": 0.77,
            "box": box,
            "props": {
                "make_model": [{"make": "Studebakerish", "model": "Larkish", "score": 0.4}],
                "orientation": [{"value": "Rear", "score": 0.9}],
                "color": [{"value": "aubergine", "score": 0.6}],
            },
        },
        "direction": None,
        "speed": None,
        "speed_score": 0,
        "source_url": RTSP_URL,
        "position_sec": 12.4,
        "user_data": "gate-2-userdata",
    }


def stream_webhook(epoch_ms: int, *results: dict) -> dict:
    filename = "north-gate-2_screenshots/26-12-05/08-15-02.317935.jpg"
    return {
        "hook": {
            "target": "https://records.example/api/v1/cameras/platerecognizer",
            "id": "north-gate-2",
            "event": "recognition",
            "filename": filename,
        },
        "data": {
            "camera_id": "north-gate-2",
            "filename": filename,
            "timestamp": iso(epoch_ms, 935),
            "timestamp_local": "2026-12-05 02:15:02.317935-06:00",
            "timestamp_camera": None,
            "results": list(results),
        },
    }


@pytest.mark.parametrize("shape", [stream_flat_result, stream_nested_result])
@pytest.mark.parametrize("transport", ["multipart", "json-as-file-part", "urlencoded", "raw-json"])
def test_stream_webhook_in_each_shape_and_transport(client, session, shape, transport):
    _, token = fixed_camera(session, "platerecognizer")
    start = recent_epoch_ms()
    document = json.dumps(stream_webhook(start, shape("mn9zk42")))
    headers = {"Authorization": f"Token {token}"}
    if transport == "multipart":
        response = form_post(
            client, "platerecognizer", {"json": document, "upload": jpeg_part()}, headers
        )
    elif transport == "json-as-file-part":
        fields = {"json": (io.BytesIO(document.encode()), "json"), "upload": jpeg_part()}
        response = form_post(client, "platerecognizer", fields, headers)
    elif transport == "urlencoded":
        response = form_post(
            client, "platerecognizer", {"json": document}, headers, urlencoded=True
        )
    else:
        response = post_camera(client, "platerecognizer", document, headers=headers)
    assert response.status_code == 200, response.get_json()
    (read,) = stored_reads(session)
    assert read.plate == "MN9ZK42"
    assert read.captured_at == at_ms(start)  # .317935 kept to the millisecond
    assert (read.latitude, read.longitude) == DEPLOYMENT
    with_picture = transport in ("multipart", "json-as-file-part")
    assert kinds(read) == (["vehicle"] if with_picture else [])
    assert leaked(session, PR_DROPPED) == set()
    fields = set(discards(session))
    assert {"results.source_url", "results.user_data", "timestamp_local"} <= fields
    if shape is stream_flat_result:
        assert {"results.region", "results.color", "results.model_make", "results.direction"} <= (
            fields
        )
    else:
        assert {"results.plate.props.region", "results.vehicle.props"} <= fields


@pytest.mark.parametrize("shape", [stream_flat_result, stream_nested_result])
def test_stream_vehicle_without_a_plate_is_counted_beside_the_read(client, session, shape):
    """Stream's ``detection_mode = vehicle`` sends vehicles whose plate is null."""
    _, token = fixed_camera(session, "platerecognizer")
    start = recent_epoch_ms()
    vehicle_only = {**shape("mn9zk42"), "plate": None}
    payload = stream_webhook(start, vehicle_only, shape("mn9zk42"))
    body = post_camera(client, "platerecognizer", payload, token=token).get_json()
    assert (body["stored"], body["discarded"]) == (1, 1), body
    assert body["discard_reasons"] == {"(read without a plate)": 1}
    assert [r.plate for r in stored_reads(session)] == ["MN9ZK42"]


def snapshot_webhook(epoch_ms: int) -> dict:
    """Snapshot's webhook: hook.id a number, data.camera_id null, MMC results."""
    result = stream_flat_result("r7kq55")
    for name in ("source_url", "position_sec", "user_data", "speed", "speed_score", "direction"):
        del result[name]
    second = {**result, "plate": "x4tm83", "candidates": [{"score": 0.8, "plate": "x4tm83"}]}
    return {
        "hook": {"target": "https://records.example/snapshot", "id": 41, "event": "image.done"},
        "data": {
            "processing_time": 88.1,
            "timestamp": iso(epoch_ms)[:-4] + "Z",
            "results": [result, second],
            "filename": "north-gate-2_2026-12-05.jpg",
            "version": 1,
            "camera_id": None,
            "image_width": 1280,
            "image_height": 720,
        },
    }


@pytest.mark.parametrize("transport", ["multipart", "raw-json", "urlencoded"])
def test_snapshot_webhook_in_each_transport(client, session, transport):
    _, token = fixed_camera(session, "platerecognizer")
    start = recent_epoch_ms()
    document = json.dumps(snapshot_webhook(start))
    headers = {"Authorization": f"Token {token}"}
    if transport == "multipart":
        response = form_post(
            client, "platerecognizer", {"json": document, "upload": jpeg_part()}, headers
        )
    elif transport == "urlencoded":
        response = form_post(
            client, "platerecognizer", {"json": document}, headers, urlencoded=True
        )
    else:
        response = post_camera(client, "platerecognizer", document, headers=headers)
    assert response.status_code == 200, response.get_json()
    reads = stored_reads(session)
    assert sorted(r.plate for r in reads) == ["R7KQ55", "X4TM83"]
    assert {r.captured_at for r in reads} == {at_ms(start)}
    assert {(r.latitude, r.longitude) for r in reads} == {DEPLOYMENT}
    expected = ["overview"] if transport == "multipart" else []
    assert all(kinds(r) == expected for r in reads)
    assert leaked(session, PR_DROPPED | {"north-gate-2_2026"}) == set()


def test_snapshot_on_premise_time_without_offset_is_utc(client, session):
    _, token = fixed_camera(session, "platerecognizer")
    start = recent_epoch_ms()
    payload = snapshot_webhook(start)
    payload["data"]["timestamp"] = iso(start, 481)[:-1].replace("T", " ")  # SDK: no T, no Z
    response = post_camera(client, "platerecognizer", payload, token=token)
    assert response.status_code == 200, response.get_json()
    assert {r.captured_at for r in stored_reads(session)} == {at_ms(start)}


# --- Axis License Plate Verifier (FF Group "JSON Fields Protocol 1.6") -----------------------


def axis_event(epoch_ms: int, **changes) -> dict:
    local = at_ms(epoch_ms) - timedelta(hours=6)
    event = {
        "packetCounter": "20417",
        "capture_timestamp": str(epoch_ms),
        "frame_timestamp": "0",
        "capture_ts": str(epoch_ms * 1_000_000),
        "datetime": local.strftime("%Y%m%d %H%M%S") + f"{epoch_ms % 1000:03d}",
        "plateText": "8KQJ274",
        "plateUnicode": "8KQJ274",
        "plateUTF8": "8KQJ274",
        "plateASCII": "8KQJ274",
        "plateCountry": "USA",
        "plateConfidence": "0.873512",
        "carState": "new",
        "roiID": "1",
        "geotag": {"lat": 44.9537, "lon": -93.09},
        "imageType": "plate",
        "plateImageType": "jpg",
        "plateImageSize": "0",
        "carMoveDirection": "out",
        "timeProcessing": "12",
        "plateCoordinates": [812, 455, 120, 31],
        "plateCoordinatesRelative": [412, 211, 60, 15],
        "carID": "2207511",
        "GEOtarget": "Camera",
        "imagesURI": ["/local/fflprapp/tools.cgi?action=getImage&name=88/20261205081502.jpg"],
        "imageFile": "/var/spool/storage/SD_DISK/fflprapp/88/20261205081502.jpg",
        "camera_info": {
            "SerialNumber": "B8A44F7A11C2",
            "ProdShortName": "AXIS Q1700-LE",
            "MACAddress": "B8:A4:4F:7A:11:C2",
        },
        "sensorProviderID": "defaultID_88",
    }
    event.update(changes)
    return event


AXIS_DROPPED = {"B8:A4:4F:7A:11:C2", "AXIS Q1700-LE", "SD_DISK", "fflprapp", "2207511", "USA"}


@pytest.mark.parametrize("event_as", ["file part", "form field"])
def test_axis_multipart_event_and_image(client, session, event_as):
    _, token = camera_device(session, "axis")
    start = recent_epoch_ms()
    raw = json.dumps(axis_event(start))
    event = (io.BytesIO(raw.encode()), "event.json") if event_as == "file part" else raw
    response = form_post(
        client,
        "axis",
        {"event": event, "image": jpeg_part("plate.jpg")},
        {"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_json()
    (read,) = stored_reads(session)
    assert (read.plate, read.captured_at) == ("8KQJ274", at_ms(start))
    assert (read.latitude, read.longitude) == (44.9537, -93.09)
    assert kinds(read) == ["plate"]
    assert leaked(session, AXIS_DROPPED) == set()
    assert {"plateCountry", "carMoveDirection", "camera_info.MACAddress"} <= set(discards(session))


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"imageType": "vehicle"}, "vehicle"),
        ({"imageType": "image"}, "overview"),
        ({"imageType": None}, "overview"),
    ],
)
def test_axis_picture_kind_follows_image_type(client, session, changes, kind):
    _, token = camera_device(session, "axis")
    event = axis_event(recent_epoch_ms(), **changes)
    response = form_post(
        client,
        "axis",
        {"event": json.dumps(event), "image": jpeg_part()},
        {"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_json()
    assert kinds(stored_reads(session)[0]) == [kind]


@pytest.mark.parametrize("geotag", [None, {"lat": 0, "lon": 0}, {"lat": "0.0", "lon": "0.0"}])
def test_axis_without_a_geotag_is_placed_at_the_deployment(client, session, geotag):
    _, token = fixed_camera(session, "axis")
    event = axis_event(recent_epoch_ms(), geotag=geotag)
    response = form_post(
        client,
        "axis",
        {"event": json.dumps(event), "image": jpeg_part()},
        {"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_json()
    read = stored_reads(session)[0]
    assert (read.latitude, read.longitude) == DEPLOYMENT


def test_axis_nanosecond_capture_time_when_milliseconds_are_missing(client, session):
    _, token = camera_device(session, "axis")
    start = recent_epoch_ms()
    event = axis_event(start, capture_timestamp="")
    event["capture_ts"] = str(start * 1_000_000 + 654_321)
    response = post_camera(client, "axis", event, token=token)
    assert response.status_code == 200, response.get_json()
    assert stored_reads(session)[0].captured_at == at_ms(start)


def test_axis_plate_in_a_non_latin_script_is_read_from_its_ascii_spelling(client, session):
    _, token = camera_device(session, "axis")
    event = axis_event(
        recent_epoch_ms(),
        plateText="АА7690ЕВ",
        plateUnicode="АА7690ЕВ",
        plateUTF8="АА7690ЕВ",
        plateASCII="AA7690EB",
    )
    response = post_camera(client, "axis", event, token=token)
    assert response.get_json()["stored"] == 1, response.get_json()
    assert stored_reads(session)[0].plate == "AA7690EB"


# --- Genetec AutoVu / Security Center (parkpow snapshot-middleware/test/Genetec.json) ---------

GENETEC_DROPPED = {
    "Aubergine",
    "Studebakerish",
    "Larkish",
    "Moving Away",
    "Passenger Vehicle",
    "WY",
    "N44 58 40",
    "ccd6761e-b2a6-4afc-b386-412d6529c4ec",
    "Resident permit zone 9",
    "Officer Zed Quux",
    "private-local-date",
}


def genetec_read(day: str, clock: str, **changes) -> dict:
    """A read as Security Center pushes it: every field of the published example."""
    read = {
        "Address": "",
        "Attributes": {
            "Vehicle Type": "Passenger Vehicle",
            "Vehicle Type Confidence Score": "97",
            "Vehicle Color": "Aubergine",
            "Vehicle Color Confidence Score": "97",
            "Vehicle Make": "Studebakerish",
            "Vehicle Model": "Larkish",
            "Relative Motion": "Moving Away",
            "State Name": "WY",
            "State Name Confidence Score": "100",
            "Confidence Score": "99",
        },
        "CameraName": "G6378 - North Gate",
        "ConfidenceScore": "99",
        "ContextImage": GREY_B64,
        "DateLocal": "private-local-date",
        "DateUtc": day,
        "InventoryLocation": "",
        "IsHit": "No",
        "Latitude": "44.9778166666667",
        "LatitudeDegree": "44",
        "LatitudeDMS": "N44 58 40",
        "Longitude": "-93.2650333333333",
        "LongitudeDMS": "W-93 15 54",
        "OverviewImage": "",
        "ParkingLot": "",
        "PatrollerId": "00000000-0000-0000-0000-000000000000",
        "PatrollerName": "Officer Zed Quux",
        "PermitName": "Resident permit zone 9",
        "Plate": "9HKA742",
        "PlateImage": GREY_B64,
        "SharpName": "G6378",
        "State": "WY",
        "TimeLocal": "14:29:26",
        "TimeUtc": clock,
        "UserId": "00000000-0000-0000-0000-000000000000",
        "UserName": "",
        "VehicleID": "ccd6761e-b2a6-4afc-b386-412d6529c4ec",
    }
    read.update(changes)
    return read


def yesterday() -> datetime:
    return (utcnow() - timedelta(days=1)).replace(microsecond=0)


@pytest.mark.parametrize(
    ("order", "written", "clock", "expected"),
    [
        ("MDY", "{m}/{d}/{y}", "8:29:26 PM", (20, 29, 26, 0)),
        ("MDY", "{m:02d}/{d:02d}/{y}", "12:05:09 AM", (0, 5, 9, 0)),
        ("MDY", "{m:02d}/{d:02d}/{y}", "12:30:00 PM", (12, 30, 0, 0)),
        ("DMY", "{d:02d}/{m:02d}/{y}", "20:29:26.5", (20, 29, 26, 500_000)),
        ("DMY", "{d:02d}.{m:02d}.{y}", "20:29:26,123", (20, 29, 26, 123_000)),
        ("DMY", "{d}-{m}-{y}", "7:08 am", (7, 8, 0, 0)),
        ("YMD", "{y}/{m:02d}/{d:02d}", "20:29:26.1234567", (20, 29, 26, 123_000)),
        ("MDY", "{y}-{m:02d}-{d:02d}", "20:29:26.9999", (20, 29, 26, 999_000)),
        ("MDY", "{m}/{d}/{y}", "8:29:26 p.m.", (20, 29, 26, 0)),
        ("MDY", "{m}/{d}/{y} 12:00:00 AM", "8:29:26 PM", (20, 29, 26, 0)),
        ("DMY", "{d:02d}/{m:02d}/{y} 20:29:26", "", (20, 29, 26, 0)),
    ],
)
def test_genetec_date_and_time_spellings(client, session, order, written, clock, expected):
    _, token = camera_device(session, "genetec", date_order=order)
    day = yesterday()
    text = written.format(y=day.year, m=day.month, d=day.day)
    response = post_camera(client, "genetec", genetec_read(text, clock), query=f"?token={token}")
    assert response.status_code == 200, response.get_json()
    (read,) = stored_reads(session)
    hour, minute, second, micros = expected
    assert read.captured_at == day.replace(
        hour=hour, minute=minute, second=second, microsecond=micros
    )
    assert read.plate == "9HKA742"
    assert (read.latitude, read.longitude) == (44.9778166666667, -93.2650333333333)
    assert kinds(read) == ["overview", "plate"]
    assert leaked(session, GENETEC_DROPPED) == set()
    fields = discards(session)
    assert fields["Attributes.Vehicle Color"] == 1 and fields["State"] == 1
    assert "OverviewImage" not in fields  # empty: it sends nothing


def test_genetec_day_and_month_that_could_be_either_follow_the_registration(client, session):
    day = yesterday()
    while day.day > 12 or day.day == day.month:
        day -= timedelta(days=1)
    text = f"{day.day:02d}/{day.month:02d}/{day.year}"
    _, token = camera_device(session, "genetec", date_order="DMY")
    response = post_camera(client, "genetec", genetec_read(text, "10:00:00"), token=token)
    assert response.status_code == 200, response.get_json()
    assert stored_reads(session)[0].captured_at == day.replace(hour=10, minute=0, second=0)


def test_genetec_date_impossible_in_the_registered_order_is_refused_not_guessed(client, session):
    _, token = camera_device(session, "genetec", date_order="DMY")
    day = yesterday()
    text = f"{day.month:02d}/25/{day.year}"  # month first: no 25th month in DMY
    response = post_camera(client, "genetec", genetec_read(text, "10:00:00"), token=token)
    assert response.status_code == 422
    assert "DateUtc" in response.get_json()["error"]
    assert count_rows(session, Read) == 0


def test_genetec_fixed_sharp_without_position_and_a_decimal_comma(client, session):
    _, token = fixed_camera(session, "genetec")
    day = yesterday()
    date = f"{day.month}/{day.day}/{day.year}"
    reads = [
        genetec_read(date, "10:00:00", Latitude="", Longitude=""),
        genetec_read(date, "10:00:01", Plate="9HKA743", Latitude="0", Longitude="0"),
        genetec_read(date, "10:00:02", Plate="9HKA744", Latitude="44,98", Longitude="-93,27"),
    ]
    response = post_camera(client, "genetec", reads, token=token)
    assert response.get_json()["stored"] == 3, response.get_json()
    positions = [(r.latitude, r.longitude) for r in stored_reads(session)]
    assert positions == [DEPLOYMENT, DEPLOYMENT, (44.98, -93.27)]


def test_genetec_list_with_one_unreadable_time_stores_none_of_it(client, session):
    _, token = camera_device(session, "genetec")
    day = yesterday()
    date = f"{day.month}/{day.day}/{day.year}"
    reads = [genetec_read(date, "10:00:00"), genetec_read(date, "25:61:00", Plate="9HKA743")]
    response = post_camera(client, "genetec", reads, token=token)
    assert response.status_code == 422
    assert count_rows(session, Read) == 0 and count_rows(session, CameraDiscard) == 0


# --- Verkada Command LPR (apidocs.verkada.com/reference/lpr, both published samples) ---------


def verkada_webhook(epoch_ms: int, *, detected: bool = True, webhook_type: str = "lpr") -> dict:
    data = {
        "camera_id": "7a226fef-3636-4428-bb61-aa3e61c4abea",
        "created": epoch_ms // 1000,
        "license_plate_number": "7NCR867",
        "confidence": 0.85,
    }
    if detected:
        data.update(
            {
                "detected": epoch_ms,
                "crop": [0.955, 0.991, 0.113, 0.155],
                "image_url": "https://vprovision.command.verkada.com/lpr/crop/77f0.jpg",
                "license_plate_state": "us-wy",
            }
        )
    return {
        "org_id": "b9b576c4-ec47-4801-9720-4104d85147cb",
        "webhook_type": webhook_type,
        "created_at": epoch_ms // 1000 + 1,
        "webhook_id": "0302934a-9966-4df6-a39c-d7e7e5467244",
        "data": data,
    }


VERKADA_DROPPED = {
    "b9b576c4-ec47-4801-9720-4104d85147cb",
    "0302934a-9966-4df6-a39c-d7e7e5467244",
    "7a226fef-3636-4428-bb61-aa3e61c4abea",
    "vprovision",
    "us-wy",
}


@pytest.mark.parametrize(
    ("detected", "webhook_type"), [(True, "lpr"), (False, "lpr"), (True, "LPR"), (False, "LPR")]
)
def test_verkada_signed_webhook_as_each_doc_version_shows_it(
    client, session, app, detected, webhook_type
):
    _, token = fixed_camera(session, "verkada")
    start = recent_epoch_ms()
    payload = verkada_webhook(start, detected=detected, webhook_type=webhook_type)
    response = signed_post(client, app, token, json.dumps(payload).encode())
    assert response.status_code == 200, response.get_json()
    (read,) = stored_reads(session)
    assert read.plate == "7NCR867"
    # `detected` (ms) when sent; the older webhook has only `created`, in seconds
    assert read.captured_at == (at_ms(start) if detected else at_ms(start // 1000 * 1000))
    assert (read.latitude, read.longitude) == DEPLOYMENT
    assert read.images == []  # image_url is a link on Verkada's servers: not fetched
    assert leaked(session, VERKADA_DROPPED) == set()


# --- hostile input at every route --------------------------------------------------------------


def edge_device(session, camera_format: str) -> str:
    """The token of a fixed camera of the format (so no payload needs a position)."""
    return fixed_camera(session, camera_format)[1]


def send(client, app, camera_format: str, token: str, body: bytes):
    """`body` as the format's own transport carries its JSON."""
    headers = {"Authorization": f"Bearer {token}"}
    if camera_format == "verkada":
        return signed_post(client, app, token, body)
    if camera_format == "axis":
        fields = {"event": (io.BytesIO(body), "event.json"), "image": jpeg_part()}
        return form_post(client, "axis", fields, headers)
    if camera_format == "platerecognizer":
        fields = {"json": (io.BytesIO(body), "json"), "upload": jpeg_part()}
        return form_post(client, "platerecognizer", fields, headers)
    return post_camera(client, camera_format, body, token=token)


def valid_payload(camera_format: str) -> dict:
    """A payload of the format that is stored as it is: each edge test spoils one part."""
    start = recent_epoch_ms()
    day = yesterday()
    return {
        "openalpr": lambda: openalpr_group(start),
        "platerecognizer": lambda: stream_webhook(start, stream_flat_result("mn9zk42")),
        "axis": lambda: axis_event(start),
        "genetec": lambda: genetec_read(f"{day.month}/{day.day}/{day.year}", "10:00:00"),
        "verkada": lambda: verkada_webhook(start),
    }[camera_format]()


FORMATS = ["openalpr", "platerecognizer", "axis", "genetec", "verkada"]
#: Where each format carries its time, a coordinate and a confidence.
NUMBER_FIELDS = {
    "openalpr": [("epoch_start",), ("gps_latitude",), ("best_confidence",)],
    "platerecognizer": [("data", "timestamp"), ("data", "results", 0, "score")],
    "axis": [("capture_timestamp",), ("geotag", "lat"), ("plateConfidence",)],
    "genetec": [("TimeUtc",), ("Latitude",), ("ConfidenceScore",)],
    "verkada": [("data", "detected"), ("data", "confidence")],
}


def assert_refused(session, response, statuses=(400, 413, 415, 422)) -> None:
    assert response.status_code in statuses, (response.status_code, response.get_data()[:300])
    body = response.get_json()
    assert body["status"] == response.status_code and body["error"]
    assert count_rows(session, Read) == 0


@pytest.mark.parametrize("camera_format", FORMATS)
def test_nesting_five_thousand_deep_is_400(client, session, app, camera_format):
    token = edge_device(session, camera_format)
    body = ('{"a": ' * 5000 + "1" + "}" * 5000).encode()
    response = send(client, app, camera_format, token, body)
    assert_refused(session, response, (400,))


@pytest.mark.parametrize(
    ("camera_format", "path"),
    [(f, path) for f, paths in NUMBER_FIELDS.items() for path in paths],
)
@pytest.mark.parametrize("as_text", [False, True])
def test_a_400_digit_number_in_a_time_coordinate_or_confidence_is_refused(
    client, session, app, camera_format, path, as_text
):
    token = edge_device(session, camera_format)
    payload = valid_payload(camera_format)
    holder = payload
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = "9" * 400 if as_text else 10**400 - 1
    response = send(client, app, camera_format, token, json.dumps(payload).encode())
    assert_refused(session, response, (422,))


@pytest.mark.parametrize("camera_format", FORMATS)
@pytest.mark.parametrize("body", [b"", b"   ", b'{"plate": "\xff\xfe\xfd"}', b"\xc3\x28\xa0\xa1"])
def test_empty_or_non_utf8_bodies_are_400(client, session, app, camera_format, body):
    token = edge_device(session, camera_format)
    response = send(client, app, camera_format, token, body)
    assert_refused(session, response, (400,))


@pytest.mark.parametrize("camera_format", ["platerecognizer", "axis"])
def test_an_empty_form_is_refused(client, session, camera_format):
    token = edge_device(session, camera_format)
    response = form_post(client, camera_format, {}, {"Authorization": f"Bearer {token}"})
    assert_refused(session, response, (400, 422))


def test_non_utf8_bytes_in_a_form_field_store_no_garbled_plate(client, session):
    token = edge_device(session, "platerecognizer")
    document = json.dumps(stream_webhook(recent_epoch_ms(), stream_flat_result("PLATE")))
    raw = document.replace("PLATE", "\udcff\udcfe").encode("utf-8", "surrogateescape")
    response = client.post(
        "/api/v1/cameras/platerecognizer",
        data=b"json=" + quote_from_bytes(raw).encode(),
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/x-www-form-urlencoded",
    )
    # the form's text is decoded with replacement characters: a plate of them is no plate
    assert response.status_code == 200, response.get_data()[:300]
    assert response.get_json()["discard_reasons"] == {"(read whose plate is not a plate)": 1}
    assert count_rows(session, Read) == 0


@pytest.mark.parametrize(
    ("camera_format", "field"), [("openalpr", "vehicle_crop_jpeg"), ("genetec", "PlateImage")]
)
def test_a_huge_base64_picture_is_413_and_nothing_stored(
    client, session, app, camera_format, field
):
    token = edge_device(session, camera_format)
    payload = valid_payload(camera_format)
    payload[field] = base64.b64encode(
        b"\xff\xd8" + b"\0" * (app.config["IMAGE_MAX_BYTES"] + 1)
    ).decode()
    response = send(client, app, camera_format, token, json.dumps(payload).encode())
    assert_refused(session, response, (413,))
    payload[field] = "QUJD" * 300_000 + "%%%"  # long, and not base64
    response = send(client, app, camera_format, token, json.dumps(payload).encode())
    assert_refused(session, response, (422,))


@pytest.mark.parametrize("part", ["upload", "json"])
def test_platerecognizer_oversized_form_parts_are_413(client, session, app, part):
    token = edge_device(session, "platerecognizer")
    payload = stream_webhook(recent_epoch_ms(), stream_flat_result("mn9zk42"))
    upload = GREY_JPEG
    if part == "upload":
        upload = b"\xff\xd8" + b"\0" * (app.config["IMAGE_MAX_BYTES"] + 1)
    else:  # a form field is text held in memory: werkzeug's limit is 500 kB
        payload["data"]["padding"] = "A" * 600_000
    fields = {"json": json.dumps(payload), "upload": (io.BytesIO(upload), "car.jpg")}
    response = form_post(client, "platerecognizer", fields, {"Authorization": f"Token {token}"})
    assert_refused(session, response, (413,))


@pytest.mark.parametrize("camera_format", FORMATS)
def test_a_body_over_the_request_limit_is_a_json_413(
    client, session, app, monkeypatch, camera_format
):
    token = edge_device(session, camera_format)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    payload = valid_payload(camera_format)
    if isinstance(payload, dict):
        payload["padding"] = "A" * (80 * 1024)
    response = send(client, app, camera_format, token, json.dumps(payload).encode())
    assert_refused(session, response, (413,))


PLATE_FIELD = {
    "openalpr": lambda p, v: p.update(best_plate_number=v) or p["best_plate"].update(plate=v),
    "platerecognizer": lambda p, v: p["data"]["results"][0].update(plate=v),
    "axis": lambda p, v: p.update(plateText=v, plateUnicode=v, plateUTF8=v, plateASCII=v),
    "genetec": lambda p, v: p.update(Plate=v),
    "verkada": lambda p, v: p["data"].update(license_plate_number=v),
}


@pytest.mark.parametrize("camera_format", FORMATS)
@pytest.mark.parametrize("plate", ["---", "***", ". . .", "#?!"])
def test_a_plate_of_punctuation_only_is_a_counted_discard(
    client, session, app, camera_format, plate
):
    token = edge_device(session, camera_format)
    payload = valid_payload(camera_format)
    PLATE_FIELD[camera_format](payload, plate)
    response = send(client, app, camera_format, token, json.dumps(payload).encode())
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["stored"], body["discarded"]) == (0, 1)
    assert body["discard_reasons"] == {"(read whose plate is not a plate)": 1}
    assert count_rows(session, Read) == 0
