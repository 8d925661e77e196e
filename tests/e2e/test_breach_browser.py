"""Real Chromium, at desktop width and at 390 px: a trained operator reports a breach, and the
Deputy Chief investigates, records the notification of individuals and completes the report
(§ 13.055); the timeline shows every step and no step is offered once the report is done."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from app.auth.models import Role
from app.core.timeutil import display_zone, local_today
from app.db import utcnow
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.e2e

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", list(WIDTHS))
def test_a_breach_from_report_to_completed_report(
    browser: Browser, live_server: str, session, size: str
):
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    discovered = (utcnow() - timedelta(hours=5)).astimezone(display_zone())

    reporter = browser.new_context(viewport=WIDTHS[size])
    page = reporter.new_page()
    sign_in(page, live_server, operator.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Report a breach").click()
    page.get_by_label("Discovered at").fill(discovered.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("What happened").fill("A printed list of reads was left at the front desk.")
    page.get_by_label("Data involved").fill("Reads of 40 plates from one day")
    page.get_by_role("button", name="Report breach").click()
    expect(page.get_by_text("reported.", exact=False).first).to_be_visible()
    reporter.close()

    handler = browser.new_context(viewport=WIDTHS[size])
    page = handler.new_page()
    sign_in(page, live_server, chief.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Breach incidents").click()
    page.get_by_role("link", name="#", exact=False).first.click()
    expect(page.get_by_test_id("breach-status")).to_have_text("reported")

    page.get_by_role("button", name="Start investigation").click()
    expect(page.get_by_test_id("breach-status")).to_have_text("investigating")

    # a notice dated in the future is refused at its field, the typed findings kept
    page.get_by_label("Investigation findings").fill("The list was photographed by a visitor.")
    page.get_by_label("Individuals notified on").fill(
        (local_today() + timedelta(days=1)).isoformat()
    )
    page.get_by_label("Notification method").select_option("written")
    page.get_by_label("Individuals notified", exact=True).fill("40")
    page.get_by_role("button", name="Record notification").click()
    expect(page.locator("#notified_on-err")).to_contain_text("in the future")
    expect(page.get_by_label("Investigation findings")).to_have_value(
        "The list was photographed by a visitor."
    )
    page.get_by_label("Individuals notified on").fill(local_today().isoformat())
    page.get_by_role("button", name="Record notification").click()
    expect(page.get_by_test_id("breach-status")).to_have_text("individuals notified")
    expect(page.get_by_test_id("breach-notified")).to_contain_text("40 individuals")

    page.get_by_label("Report summary").fill("Facts and results: desk procedure changed.")
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Complete report").click()
    expect(page.get_by_test_id("breach-status")).to_have_text("report completed")
    timeline = page.get_by_test_id("breach-timeline").locator("li")
    expect(timeline).to_have_count(4)
    expect(page.locator("[data-step]")).to_have_count(0)
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, "the page scrolls sideways"
    page.screenshot(path=f"/tmp/shots/breach_detail_{size}.png", full_page=True)
    handler.close()
