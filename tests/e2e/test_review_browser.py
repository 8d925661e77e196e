"""Real headless Chromium: an operator opens the review queue and corrects a plate."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.auth.models import Role
from app.reads.models import PlateStatus, Read
from tests.e2e.conftest import decoded_width, sign_in
from tests.factories import UserFactory
from tests.helpers import review_read

pytestmark = pytest.mark.e2e


def test_operator_corrects_a_doubtful_plate(page: Page, live_server: str, app, session):
    read = review_read(app.test_client(), session, "QRT5519")
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    sign_in(page, live_server, operator.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Plate review").click()
    row = page.get_by_test_id(f"review-row-{read.id}")
    expect(row.get_by_test_id("ocr-plate")).to_have_text("QRT5519")
    picture = row.get_by_role("img", name=f"Plate picture of read {read.id}")
    expect(picture).to_be_visible()
    assert decoded_width(picture) == 520
    page.screenshot(path="/tmp/shots/review-queue.png", full_page=True)

    row.get_by_label("Correct plate").fill("qrt 5518")
    row.get_by_role("button", name="Save correction").click()
    expect(row.get_by_role("status")).to_contain_text("plate corrected to QRT5518")
    page.screenshot(path="/tmp/shots/review-corrected.png", full_page=True)
    session.commit()
    stored = session.get(Read, read.id, populate_existing=True)
    assert (stored.plate, stored.plate_status) == ("QRT5518", PlateStatus.CORRECTED.value)

    # Decided, the read has left the queue: opening it now needs a stated purpose (425.6(b)).
    page.goto(f"{live_server}/alpr/reads/{read.id}")
    expect(page.get_by_test_id("purpose-needed")).to_be_visible()
    expect(page.get_by_test_id("read-plate")).to_have_count(0)
    page.screenshot(path="/tmp/shots/read-purpose.png", full_page=True)
    page.get_by_label("Official use").select_option("criminal_investigation")
    page.get_by_label("Purpose").fill("Check of a corrected plate for the burglary file")
    page.get_by_label("Case or incident number").fill("24-004413")
    page.get_by_role("button", name="Open the read").click()
    expect(page.get_by_test_id("read-plate")).to_have_text("QRT5518")
    expect(page.get_by_role("img", name=f"Plate picture of read {read.id}")).to_be_visible()
    page.screenshot(path="/tmp/shots/read-detail.png", full_page=True)
