"""Real headless Chromium, cut off from the internet: the maps draw their points from the app
alone (no tile server configured), and an area drawn on the search map fills the fields and runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Page, Route, expect

from app.auth.models import Role
from app.db import utcnow
from tests.e2e.conftest import sign_in
from tests.factories import DeploymentFactory, HitFactory, ReadFactory, UserFactory

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def offline(page: Page, live_server: str) -> Iterator[list[str]]:
    """Every request off the app's own server is aborted, and listed (the test wants none)."""
    outside: list[str] = []

    def route(r: Route) -> None:
        if r.request.url.startswith(live_server):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    yield outside
    assert outside == []


def drag_rectangle(page: Page, selector: str, start: float, end: float) -> None:
    """Drag from one fraction of the map's box to another (top-left to bottom-right)."""
    area = page.locator(selector)
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * start, box["y"] + box["height"] * start)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end, box["y"] + box["height"] * end, steps=8)
    page.mouse.up()


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_an_area_drawn_on_the_map_is_searched_and_its_reads_mapped(
    page: Page, live_server: str, session, offline: list[str], viewport
):
    if viewport:
        page.set_viewport_size(viewport)
    DeploymentFactory(latitude=44.0400, longitude=-91.6500, location_name="Broadway at Main")
    DeploymentFactory(latitude=44.0600, longitude=-91.6200, location_name="Highway 61")
    now = utcnow()
    for minutes, (lat, lng) in enumerate([(44.045, -91.640), (44.050, -91.635), (44.055, -91.630)]):
        ReadFactory(
            plate=f"MAP{minutes}",
            latitude=lat,
            longitude=lng,
            captured_at=now - timedelta(minutes=30 + minutes),
        )
    ReadFactory(
        plate="FAR1", latitude=45.5, longitude=-93.2, captured_at=now - timedelta(minutes=5)
    )
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    sign_in(page, live_server, operator.email)

    page.goto(f"{live_server}/alpr/search")
    area = page.locator("#area-map.map-ready")
    expect(area.locator("path.leaflet-interactive")).to_have_count(2)  # the two cameras
    page.get_by_label("Official use").select_option("stolen_or_wanted_vehicle")
    page.get_by_label("Purpose").fill("Stolen vehicle seen near downtown")
    page.get_by_label("Case or incident number").fill("24-004411")
    draw = page.get_by_role("button", name="Draw an area on the map")
    draw.click()
    expect(draw).to_have_attribute("aria-pressed", "true")
    drag_rectangle(page, "#area-map", 0.02, 0.98)
    expect(draw).to_have_attribute("aria-pressed", "false")
    south, north = page.get_by_label("South"), page.get_by_label("North")
    west, east = page.get_by_label("West"), page.get_by_label("East")
    for box_field in (south, north, west, east):
        expect(box_field).to_have_value(re.compile(r"^-?\d+\.\d{5}$"))
    assert float(south.input_value()) < 44.045 and float(north.input_value()) > 44.055
    assert float(west.input_value()) < -91.640 and float(east.input_value()) > -91.630
    expect(area.locator("path.leaflet-interactive")).to_have_count(3)  # and the drawn area
    page.screenshot(
        path=f"/tmp/shots/search-area-{'phone' if viewport else 'desktop'}.png", full_page=True
    )
    page.get_by_role("button", name="Search", exact=True).click()

    expect(page.get_by_test_id("result-count")).to_contain_text("3 reads")
    results = page.locator("#results-map.map-ready")
    expect(results.locator("path.leaflet-interactive")).to_have_count(3)
    results.locator("path.leaflet-interactive").first.click()
    expect(results.locator(".leaflet-popup-content a")).to_contain_text(re.compile(r"MAP\d"))
    page.screenshot(
        path=f"/tmp/shots/search-map-{'phone' if viewport else 'desktop'}.png", full_page=True
    )

    page.locator("table.data tbody tr").first.get_by_role("link", name="Open read").click()
    expect(page.locator("#read-map.map-ready path.leaflet-interactive")).to_have_count(1)


def test_the_hit_panel_maps_its_read(page: Page, live_server: str, session, offline: list[str]):
    hit = HitFactory(read=ReadFactory(plate="HOT4411", latitude=44.051, longitude=-91.642))
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    sign_in(page, live_server, operator.email)
    page.goto(f"{live_server}/alpr/hits")
    page.locator(f"#hit-{hit.id}").get_by_role("link", name="Work").click()
    expect(page.locator("#hit-panel .map.map-ready path.leaflet-interactive")).to_have_count(1)
    page.goto(f"{live_server}/alpr/hits/{hit.id}")
    expect(page.locator("#hit-panel .map.map-ready path.leaflet-interactive")).to_have_count(1)
