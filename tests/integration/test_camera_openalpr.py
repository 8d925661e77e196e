"""OpenALPR agent and Rekor Scout payloads through POST /api/v1/cameras/openalpr (SPEC.md §1)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.reads.models import CameraDiscard, Device, Read
from tests.helpers import (
    at_ms,
    camera_device,
    camera_sample,
    count_rows,
    database_text,
    post_camera,
    recent_epoch_ms,
    stored_files,
    stored_reads,
)

ROUTE = "openalpr"


def shifted(document: dict, start_ms: int) -> tuple[dict, int]:
    """The group (or the alert's group) moved in time so that it starts at `start_ms`.

    The samples are years old; a read past retention may not be stored (425.5). Every time
    field moves by the same amount, so their order, and which one the adapter picks, holds.
    """
    group = document.get("group", document)
    delta = start_ms - group["epoch_start"]
    for holder in {id(h): h for h in (document, group)}.values():
        for name in ("epoch_start", "epoch_end", "best_uuid_epoch_ms", "epoch_time"):
            if name in holder:
                holder[name] += delta
    return document, delta


def dropped_values(document: object, kept: set[str]) -> set[str]:
    """Every distinctive string the payload carries outside the kept fields."""
    found: set[str] = set()

    def walk(node: object, key: str = "") -> None:
        if key in kept:
            return
        if isinstance(node, dict):
            for name, value in node.items():
                walk(value, name)
        elif isinstance(node, list):
            for value in node:
                walk(value, key)
        elif isinstance(node, str) and len(node) >= 5:
            found.add(node)
        elif isinstance(node, float):
            found.add(repr(node))

    walk(document)
    return found


KEPT = {
    "best_plate_number",
    "plate",
    "plate_crop_jpeg",
    "vehicle_crop_jpeg",
    "overview_jpeg",
    "gps_latitude",
    "gps_longitude",
    "data_type",
    "best_confidence",
    "confidence",
}


def test_group_sample_lands_as_the_read_the_json_api_makes(client, session, app):
    _, token = camera_device(session, ROUTE)
    start = recent_epoch_ms()
    payload, _ = shifted(camera_sample("openalpr-alpr_group-1.json"), start)

    response = post_camera(client, ROUTE, payload, token=token)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["stored"], body["duplicate"], body["discarded"]) == (1, 0, 0)
    (read,) = stored_reads(session)
    assert read.plate == "D2651BF"
    assert read.captured_at == at_ms(start)  # epoch_start, to the millisecond (v2: no best frame)
    assert (read.latitude, read.longitude) == (37.635986328125, -79.2059326171875)
    assert sorted(i.kind for i in read.images) == ["plate", "vehicle"]
    assert all((i.width, i.height) == (16, 16) for i in read.images)
    assert len(stored_files(app)) == 1  # the same grey picture, stored once by its digest
    assert read.plate_status == "reported" and read.ocr_confidence is None
    text = database_text(session)
    leaked = {v for v in dropped_values(payload, KEPT) if v in text}
    assert leaked == set()
    assert "us-mo" not in text and "ford_focus" not in text


def test_alert_and_its_group_are_one_read(client, session):
    _, token = camera_device(session, ROUTE)
    start = recent_epoch_ms()
    alert, _ = shifted(camera_sample("openalpr-alpr_alert-1.json"), start)
    group = {**alert["group"]}

    first = post_camera(client, ROUTE, alert, token=token).get_json()
    second = post_camera(client, ROUTE, group, token=token).get_json()

    assert (first["stored"], second["stored"], second["duplicate"]) == (1, 0, 1)
    (read,) = stored_reads(session)
    assert read.plate == "2BH375"
    # best_uuid_epoch_ms lies outside the pass in this sample: the pass's start is the time
    assert read.captured_at == at_ms(start)
    assert (read.latitude, read.longitude) == (39.0391, -77.0173)
    assert sorted(i.kind for i in read.images) == ["overview", "plate", "vehicle"]
    assert read.client_read_id.startswith("oa-")
    text = database_text(session)
    hotlist_and_vehicle = {"blacklist", "Blacklist", "us-ma", "bmw_x3"}
    for value in dropped_values(alert, KEPT | {"plate_number"}) | hotlist_and_vehicle:
        assert value not in text, value


def test_best_frame_time_is_used_when_it_lies_within_the_pass(client, session):
    _, token = camera_device(session, ROUTE)
    start = recent_epoch_ms()
    alert, _ = shifted(camera_sample("openalpr-alpr_alert-1.json"), start)
    group = alert["group"]
    group["best_uuid_epoch_ms"] = start + 1234

    assert post_camera(client, ROUTE, group, token=token).get_json()["stored"] == 1
    assert stored_reads(session)[0].captured_at == at_ms(start + 1234)


def test_group_without_position_takes_the_fixed_cameras_deployment(client, session):
    from tests.factories import DeploymentFactory

    device, token = camera_device(session, ROUTE, kind="fixed")
    DeploymentFactory(device=session.get(Device, device.id), latitude=44.1, longitude=-91.7)
    session.commit()
    payload, _ = shifted(camera_sample("openalpr-alpr_group-1.json"), recent_epoch_ms())
    payload["gps_latitude"] = payload["gps_longitude"] = 0  # an agent with no position set
    assert post_camera(client, ROUTE, payload, token=token).status_code == 200
    read = stored_reads(session)[0]
    assert (read.latitude, read.longitude) == (44.1, -91.7)


def test_group_without_position_from_a_mobile_camera_is_refused(client, session):
    _, token = camera_device(session, ROUTE)
    payload, _ = shifted(camera_sample("openalpr-alpr_group-1.json"), recent_epoch_ms())
    del payload["gps_latitude"], payload["gps_longitude"]
    response = post_camera(client, ROUTE, payload, token=token)
    assert response.status_code == 422
    assert "no position" in response.get_json()["error"]
    assert count_rows(session, Read) == 0


def test_vehicle_without_plate_is_counted_never_stored(client, session):
    device, token = camera_device(session, ROUTE)
    payload = camera_sample("openalpr-vehicle-1.json")
    body = post_camera(client, ROUTE, payload, token=token).get_json()
    assert (body["stored"], body["discarded"]) == (0, 1)
    assert count_rows(session, Read) == 0
    counters = {
        c.field: c.count for c in session.query(CameraDiscard).filter_by(device_id=device.id)
    }
    assert counters["vehicle.color"] == 1 and counters["vehicle_signature"] == 1
    text = database_text(session)
    assert payload["vehicle_signature"] not in text and "suv-crossover" not in text


def test_per_frame_results_are_acknowledged_not_stored(client, session):
    _, token = camera_device(session, ROUTE)
    payload = camera_sample("openalpr-alpr_results-1.json")
    payload["epoch_time"] = recent_epoch_ms()
    body = post_camera(client, ROUTE, payload, token=token).get_json()
    assert (body["stored"], body["discarded"]) == (0, 2)
    assert count_rows(session, Read) == 0


def test_heartbeat_keeps_liveness_and_no_trace_of_its_stream_url(client, session):
    device, token = camera_device(session, ROUTE)
    payload = camera_sample("openalpr-heartbeat-1.json")
    payload["video_streams"][0]["url"] = "rtsp://admin:s3cret-pw@10.1.2.3:554/stream1"

    response = post_camera(client, ROUTE, payload, token=token)

    assert response.status_code == 200
    assert response.get_json()["stored"] == 0
    session.rollback()
    assert session.scalar(select(Device.last_seen_at).where(Device.id == device.id)) is not None
    text = database_text(session)
    for secret in (
        "rtsp://",
        "s3cret-pw",
        "10.1.2.3",
        "licensekeyvalue",
        "12341234123412341234",
        "hostnameforthismachine",
    ):
        assert secret not in text
    fields = {c.field for c in session.query(CameraDiscard)}
    assert {"license_key", "video_streams.url"} <= fields


def test_test_ping_is_answered_and_nothing_stored(client, session):
    _, token = camera_device(session, ROUTE)
    body = post_camera(client, ROUTE, {"openalpr_webhook": "test"}, token=token).get_json()
    assert body["ping"] is True and body["stored"] == 0
    assert count_rows(session, CameraDiscard) == 0


def test_group_without_data_type_and_an_older_version_is_a_group(client, session):
    _, token = camera_device(session, ROUTE)
    payload, _ = shifted(camera_sample("openalpr-alpr_group-1.json"), recent_epoch_ms())
    payload["data_type"] = None
    del payload["best_plate_number"]  # older agents: only best_plate.plate
    payload["version"] = 1
    body = post_camera(client, ROUTE, payload, token=token).get_json()
    assert body["stored"] == 1
    assert stored_reads(session)[0].plate == "D2651BF"


def test_group_with_an_empty_plate_is_a_counted_discard(client, session):
    _, token = camera_device(session, ROUTE)
    payload, _ = shifted(camera_sample("openalpr-alpr_group-1.json"), recent_epoch_ms())
    payload["best_plate_number"] = ""
    payload["best_plate"]["plate"] = ""
    body = post_camera(client, ROUTE, payload, token=token).get_json()
    assert (body["stored"], body["discarded"]) == (0, 1)
    assert body["discard_reasons"] == {"(read without a plate)": 1}


def test_a_group_past_retention_is_discarded_not_stored(client, session):
    _, token = camera_device(session, ROUTE)
    body = post_camera(
        client, ROUTE, camera_sample("openalpr-alpr_group-1.json"), token=token
    ).get_json()
    assert (body["stored"], body["discarded"]) == (0, 1)
    assert body["discard_reasons"] == {"(read already past retention)": 1}
    assert count_rows(session, Read) == 0


@pytest.mark.parametrize("epoch", ["yesterday", 10**30, -(10**30), True, None, "1e999"])
def test_an_unreadable_time_refuses_the_payload(client, session, epoch):
    _, token = camera_device(session, ROUTE)
    payload = camera_sample("openalpr-alpr_group-1.json")
    payload["epoch_start"] = epoch
    response = post_camera(client, ROUTE, payload, token=token)
    assert response.status_code == 422
    assert "epoch_start" in response.get_json()["error"]
    assert count_rows(session, Read) == 0
    assert count_rows(session, CameraDiscard) == 0
