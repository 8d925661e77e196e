"""Real headless Chromium: the live hit list polls, and an operator works a hit in its panel."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.auth.models import Role
from app.core.timeutil import format_local
from app.db import utcnow
from tests.e2e.conftest import sign_in
from tests.factories import HitFactory, ReadFactory, UserFactory

pytestmark = pytest.mark.e2e


def local_now() -> str:
    """The current minute as a datetime-local field takes it, in the department's zone."""
    return format_local(utcnow(), "%Y-%m-%dT%H:%M")


def test_operator_works_a_hit_and_the_list_refreshes(page: Page, live_server: str, session):
    hit = HitFactory(read=ReadFactory(plate="HOT4411"))
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    sign_in(page, live_server, operator.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Hit alerts").click()
    row = page.locator(f"#hit-{hit.id}")
    expect(row).to_contain_text("HOT4411")
    row.get_by_role("link", name="Work").click()

    panel = page.locator("#hit-panel")
    expect(panel.get_by_role("button", name="Record enforcement action")).to_have_count(0)
    verified = panel.locator('[data-step="confirm"]')
    verified.get_by_label("Verified through").select_option("NLETS")
    verified.get_by_label("Query reference").fill("NLETS 26-004411")
    verified.get_by_label("Query time").fill("2001-01-01T00:00")  # before the read: refused
    verified.get_by_role("button", name="Verified valid").click()
    expect(panel.get_by_role("alert").first).to_contain_text("before the read")
    verified = panel.locator('[data-step="confirm"]')
    expect(verified.get_by_label("Query reference")).to_have_value("NLETS 26-004411")
    verified.get_by_label("Query time").fill(local_now())
    verified.get_by_role("button", name="Verified valid").click()
    expect(panel.get_by_test_id("hit-status")).to_have_text("Verified valid")
    expect(row).to_contain_text("Verified valid")  # the table refreshed on the hits-changed event
    page.screenshot(path="/tmp/shots/hit-verified.png", full_page=True)

    newer = HitFactory(read=ReadFactory(plate="NEW7781"))
    expect(page.locator(f"#hit-{newer.id}")).to_contain_text("NEW7781", timeout=15_000)  # polled
    page.screenshot(path="/tmp/shots/hits-live.png", full_page=True)


def test_a_hit_verified_not_valid_refuses_enforcement(page: Page, live_server: str, session):
    hit = HitFactory(read=ReadFactory(plate="BAD2201"))
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    sign_in(page, live_server, operator.email)
    page.goto(f"{live_server}/alpr/hits/{hit.id}")
    panel = page.locator("#hit-panel")
    not_valid = panel.locator('[data-step="mark_not_valid"]')
    not_valid.get_by_label("Verified through").select_option("MNJIS")
    not_valid.get_by_label("Query reference").fill("MNJIS 7781")
    not_valid.get_by_label("Query time").fill(local_now())
    not_valid.get_by_label("What the query showed").fill("Vehicle recovered on 11/30")
    not_valid.get_by_role("button", name="Verified not valid").click()
    expect(panel.get_by_test_id("hit-status")).to_have_text("Verified not valid")
    expect(panel.get_by_test_id("enforcement-refused")).to_contain_text("refused")
    expect(panel.get_by_role("button", name="Record enforcement action")).to_have_count(0)
    expect(panel.get_by_role("button", name="Close hit")).to_be_visible()
    page.screenshot(path="/tmp/shots/hit-not-valid.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="/tmp/shots/hit-not-valid-390.png", full_page=True)


def test_enforcement_where_verification_is_not_practicable(page: Page, live_server: str, session):
    hit = HitFactory(read=ReadFactory(plate="RUN5501"))
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    sign_in(page, live_server, operator.email)
    page.goto(f"{live_server}/alpr/hits/{hit.id}")
    panel = page.locator("#hit-panel")
    panel.get_by_label("Why verification is not practicable").fill("Radio outage, vehicle fleeing")
    panel.get_by_role("button", name="Verification not practicable").click()
    expect(panel.get_by_test_id("hit-status")).to_have_text("Verification not practicable")
    panel.get_by_label("Enforcement action taken").fill("Felony stop")
    panel.get_by_role("button", name="Record enforcement action").click()
    expect(panel).to_contain_text("Felony stop")
    expect(panel).to_contain_text("Radio outage, vehicle fleeing")
    page.screenshot(path="/tmp/shots/hit-impracticable.png", full_page=True)
