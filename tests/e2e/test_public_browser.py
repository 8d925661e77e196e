"""Real headless Chromium, signed out, at phone width (390 px): the public log and locations."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from app.db import utcnow
from app.reads.models import DeviceKind
from tests.factories import ActiveUsePeriodFactory, DeploymentFactory, DeviceFactory
from tests.helpers import serve

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def _periods() -> None:
    fixed = DeviceFactory(serial="POLE-1", kind=DeviceKind.FIXED.value)
    listed = DeploymentFactory(device=fixed, location_name="Main St at Third St")
    DeploymentFactory(
        location_name="Substation Gate Nine",
        latitude=44.0111,
        longitude=-91.7222,
        security_information=True,
        security_reason="Guards the power substation",
    )
    for days in range(4):
        ActiveUsePeriodFactory(
            device=fixed,
            deployment_id=listed.id,
            location_name=listed.location_name,
            started_at=utcnow() - timedelta(days=days, hours=2),
            ended_at=utcnow() - timedelta(days=days, hours=1),
            plates_read=40 + days,
            hits_stolen=1,
            hits_warrant=days,
            sources_compared=json.dumps(["mn_plate_file"]),
        )


def _fits_the_screen(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_public_log_at_phone_width_with_its_charts(page: Page, live_server, session):
    _periods()
    session.commit()
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/public/log")
    expect(page.get_by_role("heading", name="ALPR log of use")).to_be_visible()
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(2)
    expect(page.get_by_role("img", name="Plates read per day")).to_be_visible()
    assert page.locator("svg.chart rect.bar-plates").count() >= 4
    assert page.locator("svg.chart rect.bar-stolen").count() >= 1
    assert charts.first.bounding_box()["width"] <= PHONE["width"]
    rows = page.get_by_test_id("log-table").locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("Main St at Third St")
    expect(rows.first).to_contain_text("Minnesota license plate data file")
    _fits_the_screen(page)
    page.screenshot(path="/tmp/public-log-390.png", full_page=True)
    page.get_by_label("Month").fill(utcnow().strftime("%Y-%m"))
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{live_server}/public/log?month={utcnow():%Y-%m}&device=")


def test_the_locations_page_at_phone_width_without_tiles(page: Page, live_server, session):
    _periods()
    session.commit()
    page.set_viewport_size(PHONE)
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server) else None,
    )
    page.goto(f"{live_server}/public/locations")
    expect(page.get_by_test_id("withheld-notice")).to_be_visible()
    expect(page.get_by_test_id("points-drawing")).to_be_visible()
    expect(page.get_by_test_id("locations-table")).to_contain_text("Main St at Third St")
    expect(page.get_by_text("Substation Gate Nine")).to_have_count(0)
    _fits_the_screen(page)
    assert outside == []
    page.screenshot(path="/tmp/public-locations-390.png", full_page=True)


def test_the_map_draws_with_the_departments_tile_server(page: Page, make_app, session):
    _periods()
    session.commit()
    app = make_app()
    with serve(app) as url:
        # The app's own picture stands in for the department's tile server.
        app.config["MAP_TILE_URL"] = (
            f"{url}/static/vendor/leaflet/images/layers.png?z={{z}}&x={{x}}&y={{y}}"
        )
        page.set_viewport_size(PHONE)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("response", lambda r: errors.append(r.url) if r.status >= 400 else None)
        page.goto(f"{url}/public/locations")
        expect(page.locator("#map.map-ready")).to_be_visible()
        expect(page.locator("#map .leaflet-tile-loaded").first).to_be_visible()
        expect(page.locator("#map path.leaflet-interactive")).to_have_count(1)
        _fits_the_screen(page)
        assert errors == []
        page.screenshot(path="/tmp/public-locations-map-390.png", full_page=True)
