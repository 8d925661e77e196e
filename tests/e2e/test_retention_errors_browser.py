"""Real Chromium: a refused release shows the request's page again, the typed disposition and
date kept and the reason next to the date field; nothing is released."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.auth.models import Role
from app.core.timeutil import local_today
from app.db import utcnow
from app.retention.exculpatory import activate_exculpatory_hold, receive_exculpatory_request
from app.retention.models import ExculpatoryRequest
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory
from tests.helpers import PAPER_ORIGINAL

pytestmark = pytest.mark.e2e


def test_a_release_dated_before_receipt_is_refused_at_its_field(
    page: Page, live_server: str, session
):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    received = local_today() - timedelta(days=20)
    request = receive_exculpatory_request(
        session,
        chief,
        requester_name="J. Subject",
        case_file_number="85-CR-1",
        received_on=received,
        window_start=utcnow() - timedelta(days=30),
        window_end=utcnow() - timedelta(days=25),
        plates=["ABC123"],
        paper_original=PAPER_ORIGINAL,
    )
    activate_exculpatory_hold(session, chief, request)
    session.commit()

    sign_in(page, live_server, chief.email)
    page.goto(f"{live_server}/retention/exculpatory/{request.id}")
    page.get_by_label("Disposition").fill("Charges dismissed 3/4")
    before = (received - timedelta(days=1)).isoformat()
    page.get_by_label("Resolved on").fill(before)
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Matter resolved: release").click()

    expect(page.locator("#resolved_on-err")).to_contain_text("before the request was received")
    expect(page.get_by_label("Disposition")).to_have_value("Charges dismissed 3/4")
    expect(page.get_by_label("Resolved on")).to_have_value(before)
    expect(page.get_by_test_id("exculpatory-status")).to_have_text("Active")
    session.commit()
    assert session.scalars(select(ExculpatoryRequest.status)).one() == "active"
