"""Plate Recognizer, Axis, Genetec and Verkada payloads through their routes (SPEC.md §2-3).

Each sample is posted as its camera sends it (the multipart parts, the JSON body), with its
time moved into the retention window; the stored read is checked field by field and every
value the payload carried outside the kept fields is looked for in every text column.
"""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, timedelta

import pytest

from app.alpr.adapters import ADAPTERS
from app.db import utcnow
from app.reads.models import CameraFormat, Read
from tests.helpers import (
    CAMERA_PAYLOADS,
    GREY_JPEG,
    at_ms,
    camera_device,
    camera_sample,
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


def test_the_registry_serves_every_registrable_format():
    assert set(ADAPTERS) == {f.value for f in CameraFormat}


# --- Plate Recognizer -------------------------------------------------------------------------


def stream_payload(epoch_ms: int) -> dict:
    payload = camera_sample("platerecognizer-stream-recognition-1.json")
    payload["data"]["timestamp"] = iso(epoch_ms, 935)
    payload["data"]["timestamp_local"] = "2021-09-29 05:56:13.606935+00:00"
    return payload


def test_stream_multipart_sample_stores_the_plate_with_its_vehicle_crop(client, session):
    _, token = fixed_camera(session, "platerecognizer")
    start = recent_epoch_ms()
    payload = stream_payload(start)
    response = client.post(
        "/api/v1/cameras/platerecognizer",
        data={"json": json.dumps(payload), "upload": (io.BytesIO(GREY_JPEG), "car.jpg")},
        headers={"Authorization": f"Token {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["stored"] == 1
    (read,) = stored_reads(session)
    assert read.plate == "9JUB11"  # upper-cased
    assert read.captured_at == at_ms(start)  # .317935 kept to the millisecond
    assert (read.latitude, read.longitude) == (44.0521, -91.6393)  # the deployment's
    assert [i.kind for i in read.images] == ["vehicle"]
    assert (
        leaked(session, {"Big Truck", "sju88y", "Elixirtech", "webhook.site", "camera-1_screen"})
        == set()
    )
    fields = discards(session)
    assert fields["results.region"] == 1 and fields["results.vehicle.type"] == 1
    assert (
        fields["results.candidates"] == 1 and "results.direction" not in fields
    )  # "" sends nothing


def test_snapshot_sample_as_a_json_body_stores_each_result(client, session):
    _, token = fixed_camera(session, "platerecognizer")
    start = recent_epoch_ms()
    payload = camera_sample("platerecognizer-snapshot-image_done-1.json")
    payload["data"]["timestamp"] = iso(start)[:-4] + "Z"  # Snapshot writes milliseconds
    body = post_camera(client, "platerecognizer", payload, token=token).get_json()
    assert (body["stored"], body["discarded"]) == (2, 0)
    reads = stored_reads(session)
    assert sorted(r.plate for r in reads) == ["765410", "830265"]
    assert {r.captured_at for r in reads} == {at_ms(start)}
    assert all(r.images == [] for r in reads)
    assert leaked(session, {"14_22_test.jpeg", "localhost:8081"}) == set()


def test_snapshot_with_image_keeps_it_as_the_scene(client, session):
    _, token = fixed_camera(session, "platerecognizer")
    payload = camera_sample("platerecognizer-snapshot-image_done-1.json")
    payload["data"]["timestamp"] = iso(recent_epoch_ms())
    response = client.post(
        "/api/v1/cameras/platerecognizer",
        data={"json": json.dumps(payload), "upload": (io.BytesIO(GREY_JPEG), "x.jpg")},
        headers={"Authorization": f"Token {token}"},
        content_type="multipart/form-data",
    )
    assert response.get_json()["stored"] == 2
    assert {i.kind for r in stored_reads(session) for i in r.images} == {"overview"}


def test_stream_nested_result_shape_is_read(client, session):
    _, token = fixed_camera(session, "platerecognizer")
    start = recent_epoch_ms()
    payload = stream_payload(start)
    payload["data"]["results"] = [
        {
            "plate": {
                "type": "Plate",
                "score": 0.9,
                "box": {"xmin": 1, "ymin": 2, "xmax": 3, "ymax": 4},
                "props": {
                    "plate": [
                        {"value": "nx57rtu", "score": 0.93},
                        {"value": "nx57rtv", "score": 0.1},
                    ],
                    "region": [{"value": "gb-eng", "score": 0.8}],
                },
            },
            "vehicle": {
                "type": "Sedan",
                "score": 0.7,
                "box": {"xmin": 1, "ymin": 2, "xmax": 3, "ymax": 4},
                "props": {
                    "make_model": [{"make": "Vauxhallish", "model": "Corsaesque", "score": 0.6}],
                    "color": [{"value": "turquoise-ish", "score": 0.5}],
                    "orientation": [{"value": "Rear", "score": 0.9}],
                },
            },
            "direction": 210,
            "speed": 42.5,
        }
    ]
    # form-urlencoded: Stream without webhook_image
    response = client.post(
        "/api/v1/cameras/platerecognizer",
        data={"json": json.dumps(payload)},
        headers={"Authorization": f"Token {token}"},
        content_type="application/x-www-form-urlencoded",
    )
    assert response.get_json()["stored"] == 1
    assert stored_reads(session)[0].plate == "NX57RTU"
    assert (
        leaked(
            session, {"NX57RTV", "nx57rtv", "gb-eng", "Vauxhallish", "Corsaesque", "turquoise-ish"}
        )
        == set()
    )
    fields = discards(session)
    assert fields["results.plate.props.region"] == 1
    assert fields["results.vehicle.props"] == 1 and fields["results.speed"] == 1


def test_platerecognizer_form_without_json_field_is_refused(client, session):
    _, token = fixed_camera(session, "platerecognizer")
    response = client.post(
        "/api/v1/cameras/platerecognizer",
        data={"upload": (io.BytesIO(GREY_JPEG), "x.jpg")},
        headers={"Authorization": f"Token {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "'json'" in response.get_json()["error"]


# --- Axis ---------------------------------------------------------------------------------


def axis_event(epoch_ms: int) -> dict:
    event = camera_sample("axis-lpv-event-1.json")
    event["capture_timestamp"] = str(epoch_ms)
    event["capture_ts"] = str(epoch_ms * 1_000_000)
    return event


def test_axis_multipart_sample_stores_plate_time_geotag_and_picture(client, session):
    _, token = camera_device(session, "axis")
    start = recent_epoch_ms()
    event = axis_event(start)
    response = client.post(
        "/api/v1/cameras/axis",
        data={
            "event": (io.BytesIO(json.dumps(event).encode()), "event.json"),
            "image": (io.BytesIO(GREY_JPEG), "plate.jpg"),
        },
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    (read,) = stored_reads(session)
    assert read.plate == "RLE11684"
    assert read.captured_at == at_ms(start)
    assert (read.latitude, read.longitude) == (50.418114, 30.476213)
    assert [i.kind for i in read.images] == ["plate"]  # imageType "plate"
    assert (
        leaked(
            session,
            {
                "AC:CC:8E:D3:29:0D",
                "AXIS P1445",
                "SD_DISK",
                "fflprapp",
                "1144696",
                "11890300",
                "defaultID_176",
            },
        )
        == set()
    )
    assert "POL" not in {r.plate for r in stored_reads(session)}
    fields = discards(session)
    assert fields["plateCountry"] == 1 and fields["camera_info.MACAddress"] == 1
    assert fields["carMoveDirection"] == 1 and "camera_info.SerialNumber" not in fields


def test_axis_event_as_a_plain_field_and_time_from_an_offset_datetime(client, session):
    _, token = camera_device(session, "axis")
    start = recent_epoch_ms()
    event = axis_event(start)
    del event["capture_timestamp"], event["capture_ts"]
    local = at_ms(start).astimezone(UTC) + timedelta(hours=2)
    event["datetime"] = local.strftime("%Y%m%d %H%M%S") + f"{local.microsecond // 1000:03d} +02:00"
    response = client.post(
        "/api/v1/cameras/axis",
        data={"event": json.dumps(event)},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    assert stored_reads(session)[0].captured_at == at_ms(start)


def test_axis_local_datetime_without_offset_is_refused(client, session):
    _, token = camera_device(session, "axis")
    event = axis_event(recent_epoch_ms())
    del event["capture_timestamp"], event["capture_ts"]
    response = post_camera(client, "axis", event, token=token)
    assert response.status_code == 422 and "UTC offset" in response.get_json()["error"]


# --- Genetec (no public sample: written from SPEC.md and parkpow's receiver) ------------------


def genetec_read(day: str, clock: str, **extra) -> dict:
    return {
        "Plate": "GEN 482",
        "DateUtc": day,
        "TimeUtc": clock,
        "DateLocal": "private-local-date",
        "TimeLocal": "private-local-time",
        "Latitude": "44.0521",
        "Longitude": "-91.6393",
        "LatitudeDMS": "44 3 7.56 N",
        "ConfidenceScore": "87",
        "CameraName": "Patrol 12 - Left",
        "State": "Wisconsinish",
        "PatrollerName": "Officer Zed Quux",
        "UserName": "zquux",
        "VehicleID": "veh-998877",
        "IsHit": "False",
        "PermitName": "Resident permit zone 9",
        "Address": "1234 Elmwoodish Street",
        "Attributes": {
            "Vehicle Color": "Chartreuse",
            "Vehicle Make": "Plymouthish",
            "Relative Motion": "Moving Away",
        },
        "PlateImage": base64.b64encode(GREY_JPEG).decode(),
        "ContextImage": base64.b64encode(GREY_JPEG).decode(),
        **extra,
    }


@pytest.mark.parametrize(
    ("order", "written"),
    [
        ("MDY", "{m:02d}/{d:02d}/{y}"),
        ("DMY", "{d:02d}/{m:02d}/{y}"),
        ("YMD", "{y}/{m:02d}/{d:02d}"),
        ("DMY", "{y}-{m:02d}-{d:02d}"),
    ],
)
def test_genetec_dates_in_the_devices_order(client, session, order, written):
    _, token = camera_device(session, "genetec", date_order=order)
    when = (utcnow() - timedelta(days=1)).replace(hour=15, minute=4, second=5, microsecond=0)
    day = written.format(y=when.year, m=when.month, d=when.day)
    response = post_camera(
        client, "genetec", genetec_read(day, "15:04:05"), query=f"?token={token}"
    )
    assert response.status_code == 200, response.get_json()
    (read,) = stored_reads(session)
    assert (read.plate, read.captured_at) == ("GEN482", when)
    assert (read.latitude, read.longitude) == (44.0521, -91.6393)
    assert sorted(i.kind for i in read.images) == ["overview", "plate"]
    assert (
        leaked(
            session,
            {
                "Chartreuse",
                "Plymouthish",
                "Moving Away",
                "Wisconsinish",
                "Zed Quux",
                "zquux",
                "veh-998877",
                "Elmwoodish",
                "private-local",
                "44 3 7.56",
                "zone 9",
            },
        )
        == set()
    )
    fields = discards(session)
    assert fields["Attributes.Vehicle Color"] == 1 and fields["PatrollerName"] == 1


def test_genetec_am_pm_fraction_and_a_list_of_reads(client, session):
    _, token = camera_device(session, "genetec")
    when = utcnow() - timedelta(days=2)
    day = f"{when.month}/{when.day}/{when.year}"
    body = [genetec_read(day, "1:02:03.456 PM"), genetec_read(day, "01:02:03 AM", Plate="GEN483")]
    assert post_camera(client, "genetec", body, token=token).get_json()["stored"] == 2
    times = sorted(r.captured_at.time().isoformat() for r in stored_reads(session))
    assert times == ["01:02:03", "13:02:03.456000"]


def test_genetec_date_that_does_not_fit_the_order_is_refused(client, session):
    _, token = camera_device(session, "genetec", date_order="MDY")
    response = post_camera(client, "genetec", genetec_read("24/10/2026", "10:00:00"), token=token)
    assert response.status_code == 422
    assert count_rows(session, Read) == 0


# --- Verkada --------------------------------------------------------------------------------


def verkada_payload(epoch_ms: int) -> dict:
    payload = camera_sample("verkada-lpr-1.json")
    payload["data"]["detected"] = epoch_ms
    payload["data"]["created"] = epoch_ms // 1000
    payload["created_at"] = epoch_ms // 1000 + 1
    return payload


def test_verkada_signed_sample_stores_the_read_at_the_deployment(client, session, app):
    _, token = fixed_camera(session, "verkada")
    start = recent_epoch_ms()
    response = signed_post(client, app, token, json.dumps(verkada_payload(start)).encode())
    assert response.status_code == 200, response.get_json()
    (read,) = stored_reads(session)
    assert (read.plate, read.captured_at) == ("ABCD123", at_ms(start))  # detected, in ms
    assert (read.latitude, read.longitude) == (44.0521, -91.6393)
    assert read.images == []  # image_url is a link: not fetched
    payload = camera_sample("verkada-lpr-1.json")
    assert (
        leaked(
            session,
            {
                payload["org_id"],
                payload["webhook_id"],
                "us-ca",
                "IMAGE_URL",
                payload["data"]["camera_id"],
            },
        )
        == set()
    )
    fields = discards(session)
    assert fields["data.license_plate_state"] == 1 and fields["data.image_url"] == 1


def test_verkada_without_detected_uses_created_seconds(client, session, app):
    _, token = fixed_camera(session, "verkada")
    payload = verkada_payload(recent_epoch_ms())
    del payload["data"]["detected"]
    assert signed_post(client, app, token, json.dumps(payload).encode()).status_code == 200
    assert stored_reads(session)[0].captured_at == at_ms(payload["data"]["created"] * 1000)


def test_verkada_other_webhook_types_are_answered_not_kept(client, session, app):
    _, token = fixed_camera(session, "verkada")
    body = json.dumps({"webhook_type": "notification", "data": {"person": "someone"}}).encode()
    response = signed_post(client, app, token, body)
    assert response.status_code == 200 and response.get_json()["discarded"] == 1
    assert count_rows(session, Read) == 0


def test_every_sample_payload_has_a_test_through_its_route():
    covered = {
        "openalpr-alpr_alert-1.json",
        "openalpr-alpr_group-1.json",
        "openalpr-alpr_results-1.json",
        "openalpr-heartbeat-1.json",
        "openalpr-vehicle-1.json",
        "axis-lpv-event-1.json",
        "platerecognizer-snapshot-image_done-1.json",
        "platerecognizer-stream-recognition-1.json",
        "verkada-lpr-1.json",
    }
    assert {p.name for p in CAMERA_PAYLOADS.glob("*.json")} == covered
