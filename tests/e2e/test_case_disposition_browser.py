"""Real Chromium, at desktop width and at 390 px: an operator closes a case whose hold keeps
data; the Deputy Chief finds it awaiting disposition, is refused an end date in the past at its
field, keeps the data under a schedule category, then releases it early with the confirmation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from app.auth.models import Role
from app.core.timeutil import local_today
from app.db import utcnow
from app.retention.holds import place_hold
from tests.e2e.conftest import sign_in
from tests.factories import InvestigationFactory, UserFactory

pytestmark = pytest.mark.e2e

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", list(WIDTHS))
def test_a_closed_case_from_awaiting_disposition_to_released(
    browser: Browser, live_server: str, session, size: str
):
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    case = InvestigationFactory(opened_on=local_today() - timedelta(days=90))
    place_hold(session, chief, case, utcnow() - timedelta(days=80), utcnow(), plates=["HELD42"])
    session.commit()

    officer = browser.new_context(viewport=WIDTHS[size])
    page = officer.new_page()
    sign_in(page, live_server, operator.email)
    page.goto(f"{live_server}/investigations/{case.id}")
    page.get_by_label("Reason for closing").fill("Suspect convicted.")
    page.get_by_role("button", name="Close investigation").click()
    expect(page.get_by_test_id("investigation-status")).to_have_text(
        "Closed (awaiting disposition)"
    )
    expect(page.locator("[data-step]")).to_have_count(0)
    officer.close()

    deciding = browser.new_context(viewport=WIDTHS[size])
    page = deciding.new_page()
    sign_in(page, live_server, chief.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Investigations").click()
    page.get_by_test_id("awaiting-disposition").get_by_role("link", name=case.case_number).click()

    page.get_by_label("Schedule category").select_option("misdemeanor")
    page.get_by_label("Keep until").fill((local_today() - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Keep under the schedule").click()
    expect(page.locator("#retain_until-err")).to_contain_text("must be after today")
    expect(page.get_by_label("Schedule category")).to_have_value("misdemeanor")

    ends = local_today() + timedelta(days=400)
    page.get_by_label("Keep until").fill(ends.isoformat())
    page.get_by_role("button", name="Keep under the schedule").click()
    expect(page.get_by_test_id("investigation-status")).to_have_text("Closed (kept under schedule)")
    expect(page.get_by_test_id("retain-until")).to_have_text(ends.isoformat())

    page.get_by_role("button", name="Release to the 60-day rule").click()
    expect(page.locator("#confirm_irreversible-err")).to_contain_text("Tick the box")
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Release to the 60-day rule").click()
    expect(page.get_by_test_id("investigation-status")).to_have_text("Closed (data released)")
    expect(page.get_by_test_id("investigation-history").locator("li")).to_have_count(3)
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, "the page scrolls sideways"
    deciding.close()
