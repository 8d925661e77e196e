"""Real Chromium, desktop and 390 px: an auditor narrows the trail from lists and exports it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import Role
from tests.e2e.conftest import sign_in
from tests.factories import HitFactory, UserFactory

pytestmark = pytest.mark.e2e

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", list(WIDTHS))
def test_an_auditor_filters_the_trail_follows_a_link_and_exports(
    browser: Browser, live_server: str, session, size: str
):
    auditor = UserFactory(roles=[Role.AUDITOR], trained=True)
    officer = UserFactory(roles=[Role.OPERATOR], trained=True, name="Officer Lund")
    hit = HitFactory()
    record(session, officer, AuditAction.HIT_CLOSED, hit, {"outcome": "no action"})
    record(session, "system", AuditAction.LOGOUT, None, {})
    session.commit()

    context = browser.new_context(viewport=WIDTHS[size], accept_downloads=True)
    page = context.new_page()
    sign_in(page, live_server, auditor.email)
    page.goto(f"{live_server}/audit/")
    page.get_by_label("Action").select_option("hit.closed")
    page.get_by_label("Person").select_option(label=f"Officer Lund ({officer.email})")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("trail-count")).to_contain_text("1 entry ·")
    row = page.locator("table.trail tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("dd")).to_have_text("no action")
    # the page itself never scrolls sideways; a wide table scrolls inside its own box
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[size]["width"]

    with page.expect_download() as download:
        page.get_by_role("link", name="Export this 1 entry (CSV)").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["action"] for r in rows] == ["hit.closed"]

    page.get_by_role("link", name=f"hits {hit.id}").click()
    expect(page).to_have_url(f"{live_server}/alpr/hits/{hit.id}")
    context.close()
