"""Real headless Chromium without JavaScript: a refused correction keeps what was typed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from app.auth.models import Role
from app.reads.models import PlateStatus, Read
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory
from tests.helpers import review_read

pytestmark = pytest.mark.e2e


def test_a_refused_correction_without_htmx_keeps_the_plate_and_shows_why(
    browser: Browser, live_server: str, app, session
):
    """With no JavaScript the form posts plainly: the queue comes back (422) with the error."""
    read = review_read(app.test_client(), session, "QRT5519")
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, operator.email)
        page.goto(f"{live_server}/alpr/review")
        row = page.get_by_test_id(f"review-row-{read.id}")
        row.get_by_label("Correct plate").fill("AB!!23")
        with page.expect_response(f"**/alpr/review/{read.id}/correct") as answer:
            row.get_by_role("button", name="Save correction").click()
        assert answer.value.status == 422
        row = page.get_by_test_id(f"review-row-{read.id}")
        field = row.get_by_label("Correct plate")
        expect(field).to_have_value("AB!!23")
        expect(field).to_have_attribute("aria-invalid", "true")
        field_error = row.locator("p.error[role=alert]")
        expect(field_error).to_contain_text("must be 1 to 10 letters and digits")
        page.screenshot(path="/tmp/shots/review-refused-plain-post.png", full_page=True)
    finally:
        context.close()
    session.commit()
    stored = session.get(Read, read.id, populate_existing=True)
    assert stored.plate_status == PlateStatus.NEEDS_REVIEW.value
