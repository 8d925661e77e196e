"""Real Chromium, desktop and 390 px: the auditor's compliance page and the biennial report."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from app.auth.models import Role
from app.core.timeutil import local_today
from tests.e2e.conftest import sign_in
from tests.factories import SearchFactory, UserFactory

pytestmark = pytest.mark.e2e

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", list(WIDTHS))
def test_an_auditor_reads_the_counters_and_produces_the_report(
    browser: Browser, live_server: str, session, size: str
):
    auditor = UserFactory(roles=[Role.AUDITOR], trained=True)
    flawed = SearchFactory(purpose_category=None)
    session.commit()

    context = browser.new_context(viewport=WIDTHS[size])
    page = context.new_page()
    sign_in(page, live_server, auditor.email)
    page.goto(f"{live_server}/reports/compliance")
    expect(page.get_by_test_id("count-searches_without_purpose_or_case")).to_have_text("1")
    expect(page.get_by_test_id("count-reads_kept_past_retention")).to_have_text("0")
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[size]["width"]

    page.get_by_role("link", name="Biennial report").click()
    page.get_by_label("From (date)").fill((local_today() - timedelta(days=30)).isoformat())
    page.get_by_label("To (date, inclusive)").fill(local_today().isoformat())
    page.get_by_role("button", name="Produce report").click()
    report = page.get_by_test_id("biennial-report")
    expect(report).to_be_visible()
    assert re.fullmatch(r"[0-9a-f]{64}", page.get_by_test_id("content-hash").inner_text())
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[size]["width"]
    row = report.locator('tr[data-counter="searches_without_purpose_or_case"]')
    expect(row).to_contain_text("1")
    row.get_by_role("link", name=f"search {flawed.id}").click()
    expect(page).to_have_url(f"{live_server}/audit/?subject_type=searches&subject_id={flawed.id}")
    expect(page.get_by_label("Subject", exact=True)).to_have_value("searches")
    context.close()
