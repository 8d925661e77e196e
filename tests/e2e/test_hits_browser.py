"""Real headless Chromium: the live hit list polls, and an operator works a hit in its panel."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.auth.models import Role
from tests.e2e.conftest import sign_in
from tests.factories import HitFactory, ReadFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_operator_works_a_hit_and_the_list_refreshes(page: Page, live_server: str, session):
    hit = HitFactory(read=ReadFactory(plate="HOT4411"))
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    sign_in(page, live_server, operator.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Hit alerts").click()
    row = page.locator(f"#hit-{hit.id}")
    expect(row).to_contain_text("HOT4411")
    row.get_by_role("link", name="Work").click()

    panel = page.locator("#hit-panel")
    panel.get_by_label("Enforcement action taken").fill("Felony stop")
    panel.get_by_role("button", name="Record enforcement action").click()
    expect(panel.get_by_role("alert")).to_contain_text("impracticable")

    panel.get_by_label("Verified through").select_option("NLETS")
    panel.get_by_role("button", name="Confirm hit").click()
    expect(panel.get_by_test_id("hit-status")).to_have_text("Confirmed")
    expect(row).to_contain_text("confirmed")  # the table refreshed on the hits-changed event

    newer = HitFactory(read=ReadFactory(plate="NEW7781"))
    expect(page.locator(f"#hit-{newer.id}")).to_contain_text("NEW7781", timeout=15_000)  # polled
    page.screenshot(path="/tmp/shots/hits-live.png", full_page=True)
