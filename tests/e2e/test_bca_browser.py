"""Real Chromium, at desktop width and at 390 px: a device registered on its page opens its
BCA notice by itself; the Deputy Chief sees it overdue on the home page, records it sent (a
future date refused at its field) and acknowledged, and the dashboard shows it done."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from app.auth.models import Role
from app.core.timeutil import local_today
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.e2e

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def no_sideways_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, "the page scrolls sideways"


@pytest.mark.parametrize("size", list(WIDTHS))
def test_a_device_notice_from_registration_to_acknowledgement(
    browser: Browser, live_server: str, session, size: str
):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    context = browser.new_context(viewport=WIDTHS[size])
    page = context.new_page()
    sign_in(page, live_server, chief.email)

    page.goto(f"{live_server}/alpr/devices/new")
    page.get_by_label("Serial number").fill(f"E2E-{size}")
    page.get_by_label("Installed on").fill((local_today() - timedelta(days=12)).isoformat())
    page.get_by_role("button", name="Register device").click()

    page.goto(f"{live_server}/")
    overdue = page.get_by_test_id("bca-due")
    expect(overdue).to_contain_text(f"E2E-{size}")
    page.screenshot(path=f"/tmp/shots/bca_home_{size}.png", full_page=True)
    overdue.get_by_role("listitem").get_by_role("link").first.click()
    expect(page.get_by_test_id("bca-status")).to_have_text("Open")
    expect(page.get_by_test_id("bca-due")).to_contain_text("overdue by 2 days")

    page.get_by_label("Sent on").fill((local_today() + timedelta(days=1)).isoformat())
    page.get_by_label("Sent by").select_option("mail")
    page.get_by_label("Recipient at the BCA").fill("BCA, ALPR program")
    page.get_by_label("Reference").fill("Certified 7001 2000")
    page.get_by_role("button", name="Record notice sent").click()
    expect(page.locator("#sent_on-err")).to_contain_text("future")
    expect(page.get_by_label("Reference")).to_have_value("Certified 7001 2000")
    page.get_by_label("Sent on").fill(local_today().isoformat())
    page.get_by_role("button", name="Record notice sent").click()
    expect(page.get_by_test_id("bca-status")).to_have_text("Sent")
    expect(page.get_by_test_id("bca-sent")).to_contain_text("Certified 7001 2000")
    expect(page.get_by_test_id("bca-letter")).to_have_text("Letter as sent (PDF)")
    no_sideways_scroll(page)
    page.screenshot(path=f"/tmp/shots/bca_detail_{size}.png", full_page=True)

    page.get_by_role("button", name="Record acknowledgement").click()
    expect(page.get_by_test_id("bca-status")).to_have_text("Acknowledged")
    expect(page.locator("[data-step]")).to_have_count(0)
    expect(page.get_by_test_id("bca-timeline").locator("li")).to_have_count(3)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="BCA notices").click()
    expect(page.get_by_test_id("bca-summary")).to_contain_text("Overdue: 0")
    no_sideways_scroll(page)
    page.screenshot(path=f"/tmp/shots/bca_dashboard_{size}.png", full_page=True)
    context.close()
