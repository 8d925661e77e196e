"""Bad input on both JSON read APIs, a device's (/api/v1/reads) and an agency's (agency-reads).

They share one contract (DESIGN.md): a clear JSON error naming what is wrong, the whole batch
refused, nothing stored and nothing recorded as received.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.alpr.devices import create_device
from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.auth.agencies import create_agency, issue_agency_token
from app.db import utcnow
from app.reads.models import Read
from tests.factories import api_read
from tests.helpers import count_rows, post_json

RECEIVED = (AuditAction.READS_INGESTED.value, AuditAction.READS_IMPORTED.value)


@dataclass(frozen=True)
class ReadsApi:
    url: str
    token: str

    def post(self, client, body, raw: bool = False):
        return post_json(client, self.token, body, raw, url=self.url)


@pytest.fixture(params=["device", "agency"])
def reads_api(request, session) -> ReadsApi:
    if request.param == "device":
        _, token = create_device(session, "test", serial="CAM-1", kind="mobile")
        api = ReadsApi("/api/v1/reads", token)
    else:
        agency = create_agency(session, "test", name="La Crosse Police", ori="WI0320100")
        api = ReadsApi("/api/v1/agency-reads", issue_agency_token(session, "test", agency))
    session.commit()
    return api


def nothing_received(session) -> bool:
    stored = count_rows(session, Read)
    recorded = session.scalars(select(AuditEntry).where(AuditEntry.action.in_(RECEIVED))).all()
    return stored == 0 and recorded == []


def test_a_field_outside_the_statutes_list_is_refused_with_422_naming_it(
    client, session, reads_api
):
    response = reads_api.post(
        client, {"reads": [api_read(), api_read(vehicle_color="red", speed=40)]}
    )
    assert response.status_code == 422
    body = response.get_json()
    assert "vehicle_color" in body["error"] and "speed" in body["error"]
    assert body["stored"] == 0
    assert body["errors"] == [
        {
            "index": 1,
            "errors": [
                "speed: field not allowed (policy 425.4.1(a))",
                "vehicle_color: field not allowed (policy 425.4.1(a))",
            ],
        }
    ]
    top = reads_api.post(client, {"reads": [api_read()], "driver_name": "x"})
    assert top.status_code == 422 and "driver_name" in top.get_json()["error"]
    assert nothing_received(session)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ("{not json", 400, "not valid JSON"),
        ("[1, 2]", 400, '{"reads": [...]}'),
        ('{"reads": "ABC123"}', 422, "must be a list"),
        ("{}", 422, "reads"),
        ('{"reads": []}', 422, "empty"),
        ('{"reads": [42]}', 422, "JSON object"),
        pytest.param(
            '{"reads": ' + "[" * 5000 + "]" * 5000 + "}", 400, "not valid JSON", id="nested-5000"
        ),
        pytest.param("[" * 100_000, 400, "not valid JSON", id="unclosed-100000"),
    ],
)
def test_malformed_bodies_get_a_clear_json_error(client, session, reads_api, body, status, words):
    response = reads_api.post(client, body, raw=True)
    assert response.status_code == status
    assert words in response.get_json()["error"] + json.dumps(response.get_json().get("errors"))
    assert nothing_received(session)


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ({"plate": 123}, "plate: must be a string"),
        ({"latitude": "44.05"}, "latitude: must be a number"),
        ({"longitude": True}, "longitude: must be a number"),
        ({"captured_at": 1700000000}, "captured_at: must be a string"),
        ({"client_read_id": 7}, "client_read_id: must be a string"),
        ({"plate": None}, "plate: is required"),
        ({"plate": "AB*12"}, "plate: must be 1 to 10 letters and digits"),
        ({"plate": "ABCDEFGHIJK"}, "plate: must be 1 to 10 letters and digits"),
        ({"latitude": 91}, "latitude: must be between -90 and 90"),
        ({"longitude": -181.5}, "longitude: must be between -180 and 180"),
        ({"captured_at": "yesterday"}, "is not an ISO 8601"),
        ({"captured_at": "2026-05-01T10:00:00"}, "must carry a UTC offset"),
        ({"captured_at": "9999-12-31T23:00:00-05:00"}, "captured_at: is in the future"),
        ({"captured_at": "0001-01-01T00:00:00+05:00"}, "retention period"),
        pytest.param(
            {"latitude": 10**400}, "latitude: must be between -90 and 90", id="400-digit-lat"
        ),
        pytest.param(
            {"longitude": -(10**400)}, "longitude: must be between -180 and 180", id="400-digit-lon"
        ),
        ({"latitude": 1e308 * 10}, "latitude: must be between -90 and 90"),
        ({"client_read_id": "r-1\x00"}, "client_read_id: must be 1 to 64 letters"),
        ({"client_read_id": "r 1"}, "client_read_id: must be 1 to 64 letters"),
        ({"client_read_id": "x" * 65}, "client_read_id: must be 1 to 64 letters"),
    ],
)
def test_each_bad_read_refuses_the_whole_batch(client, session, reads_api, bad, words):
    response = reads_api.post(client, {"reads": [api_read("GOOD1"), {**api_read(), **bad}]})
    assert response.status_code == 422
    body = response.get_json()
    assert body["stored"] == 0 and "nothing was stored" in body["error"]
    assert body["errors"][0]["index"] == 1
    assert any(words in e for e in body["errors"][0]["errors"]), body
    assert nothing_received(session)


def test_times_in_the_future_or_past_retention_are_refused(app, client, session, reads_api):
    skew = app.config["CLOCK_SKEW_SECONDS"]
    future = api_read(captured_at=(utcnow() + timedelta(seconds=skew + 60)).isoformat())
    too_old = api_read(
        captured_at=(utcnow() - timedelta(days=app.config["RETENTION_DAYS"], minutes=1)).isoformat()
    )
    response = reads_api.post(client, {"reads": [future, too_old]})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "captured_at: is in the future" in errors[0]["errors"]
    assert "retention period" in errors[1]["errors"][0]
    assert nothing_received(session)
    within_skew = api_read(
        "SKEW1", captured_at=(utcnow() + timedelta(seconds=skew // 2)).isoformat()
    )
    assert reads_api.post(client, {"reads": [within_skew]}).status_code == 200


def test_a_non_json_body_is_refused_with_415(client, session, reads_api):
    response = client.post(
        reads_api.url,
        data="plate=ABC",
        headers={"Authorization": f"Bearer {reads_api.token}"},
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415 and "application/json" in response.get_json()["error"]
    assert nothing_received(session)


def test_an_oversize_batch_is_refused_with_413(app, client, session, reads_api):
    too_many = app.config["INGEST_MAX_BATCH"] + 1
    response = reads_api.post(client, {"reads": [api_read(f"P{i}") for i in range(too_many)]})
    assert response.status_code == 413
    assert str(app.config["INGEST_MAX_BATCH"]) in response.get_json()["error"]
    assert nothing_received(session)
