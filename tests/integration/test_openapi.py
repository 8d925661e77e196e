"""The published OpenAPI description stays true: every API route is in it, and schemathesis
finds no 500 and no answer that breaks it (bounded examples, on both databases)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.helpers import device_with_token

OPERATIONS_OUTSIDE_API = {"/healthz", "/readyz"}


def _spec(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_description_is_served_without_sign_in_and_is_openapi_31(client):
    spec = _spec(client)
    assert spec["openapi"] == "3.1.0"
    batch = spec["paths"]["/api/v1/reads"]["post"]["requestBody"]["content"]["application/json"]
    assert batch["schema"]["properties"]["reads"]["maxItems"] == 1000


def test_every_api_route_is_described_and_nothing_else(app, client):
    described = {
        (path, method.upper())
        for path, operations in _spec(client)["paths"].items()
        for method in operations
    }
    routed = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule.replace("<", "{").replace(">", "}")
        if path.startswith("/api/") or path in OPERATIONS_OUTSIDE_API:
            routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == routed


@pytest.fixture
def api_schema(app, session):
    _, token = device_with_token(session, serial="FUZZ-1")
    session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.headers = {"Authorization": f"Bearer {token}"}
    checks = schema.config.checks
    # Too many reads is refused as too large (413), a wrong body type as 415: both rejections.
    checks.negative_data_rejection.expected_statuses = [
        *checks.negative_data_rejection.expected_statuses,
        "413",
        "415",
    ]
    # Rules a schema cannot state refuse some schema-valid reads at their field: a time past
    # the 60-day retention or in the future (422), a picture that is not one (422, 413).
    checks.positive_data_acceptance.expected_statuses = [
        *checks.positive_data_acceptance.expected_statuses,
        "413",
        "422",
    ]
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_error_and_every_answer_matches_the_description(case):
    case.call_and_validate()
