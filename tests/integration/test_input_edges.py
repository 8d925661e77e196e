"""Input nobody documents still gets a clear 4xx: ids past 64 bits, pages past the end."""

from __future__ import annotations

import pytest

from app.auth.models import Role
from app.core.edges import MAX_ROW_ID
from tests.factories import AgencyFactory, UserFactory
from tests.helpers import login

EVERY_STAFF_ROLE = [role for role in Role if role is not Role.AGENCY]
#: Routes that answer an id a row can have before looking it up: a read's page asks why it is
#: opened whether or not the read exists (app.alpr.read_access), so walking ids learns nothing.
ASKS_FIRST = {"/alpr/reads/<int:read_id>"}


def _id_routes(app) -> list[tuple[str, list[str]]]:
    routes = []
    for rule in app.url_map.iter_rules():
        ints = [
            name
            for name, conv in rule._converters.items()
            if conv.__class__.__name__ == "RowIdConverter"
        ]
        if ints and "GET" in rule.methods:
            routes.append((rule.rule, ints))
    return routes


def _url(rule: str, ints: list[str], value: int) -> str:
    for name in ints:
        rule = rule.replace(f"<int:{name}>", str(value))
    return rule.replace("<any(plate, vehicle, overview):kind>", "plate").replace(
        "<plate>", "ABC123"
    )


#: The agency portal's pages, which only agency users reach (app/requests).
PORTAL = "/portal/"


@pytest.mark.parametrize("value", [2**63, 2**64 + 1, 10**30, MAX_ROW_ID])
def test_every_id_in_a_url_past_what_a_row_can_have_is_404(app, client, login_as, value):
    login_as(*EVERY_STAFF_ROLE)
    routes = _id_routes(app)
    assert routes, "the app has id routes"
    answers = {
        rule: client.get(_url(rule, ints, value)).status_code
        for rule, ints in routes
        if not rule.startswith(PORTAL)
    }
    agency_client = app.test_client()
    agency_user = UserFactory(roles=[Role.AGENCY], agency=AgencyFactory())
    assert login(agency_client, agency_user.email).status_code == 302
    answers |= {
        rule: agency_client.get(_url(rule, ints, value)).status_code
        for rule, ints in routes
        if rule.startswith(PORTAL)
    }
    assert any(rule.startswith(PORTAL) for rule in answers)
    expected = {
        rule: 200 if rule in ASKS_FIRST and value <= MAX_ROW_ID else 404 for rule in answers
    }
    assert {rule: code for rule, code in answers.items() if code not in (expected[rule], 405)} == {}


@pytest.mark.parametrize("page", ["2", "99999999999999999999999999999", "9223372036854775808"])
def test_an_audit_page_past_the_last_is_404(client, login_as, page):
    login_as(Role.AUDITOR)
    assert client.get(f"/audit/?page={page}").status_code == 404


def test_the_first_audit_page_still_shows(client, login_as):
    login_as(Role.AUDITOR)
    assert client.get("/audit/?page=1").status_code == 200
