"""Real Chromium, at desktop width and at 390 px: the Deputy Chief grants a role on a written
authorisation (refused at each field until it is given, nothing typed lost), and the
administrator's view of the same account offers no grant (policy 425.3)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from app.auth.models import Role
from app.core.timeutil import local_today
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.e2e

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", list(WIDTHS))
def test_the_deputy_chief_grants_a_role_on_a_written_authorisation(
    browser: Browser, live_server: str, session, size: str
):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    admin = UserFactory(roles=[Role.ADMIN], trained=True)
    officer = UserFactory(roles=[Role.RECORDS], name="Riley Records")

    context = browser.new_context(viewport=WIDTHS[size])
    page = context.new_page()
    sign_in(page, live_server, chief.email)
    page.goto(f"{live_server}/admin/users/{officer.id}")
    form = page.get_by_test_id("roles-form")
    form.get_by_label("Operator (trained officer)").check()
    form.get_by_label("Authorised by").fill("Dana Deputy-Chief")
    form.get_by_role("button", name="Save roles").click()

    form = page.get_by_test_id("roles-form")
    expect(form.locator("#authorised_on-err")).to_contain_text("written authorisation")
    expect(form.locator("#document-err")).to_contain_text("written authorisation")
    expect(form.get_by_label("Authorised by")).to_have_value("Dana Deputy-Chief")
    expect(form.get_by_label("Operator (trained officer)")).to_be_checked()
    form.get_by_label("Authorised on").fill(local_today().isoformat())
    form.get_by_label("Written authorisation").fill("Memo 2026-014")
    form.get_by_role("button", name="Save roles").click()

    expect(page.get_by_text("Roles updated.")).to_be_visible()
    granted = page.get_by_test_id("authorisations").get_by_role("row").nth(1)
    expect(granted).to_contain_text("Granted Operator (trained officer)")
    expect(granted).to_contain_text("Memo 2026-014")
    context.close()

    context = browser.new_context(viewport=WIDTHS[size])
    page = context.new_page()
    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/admin/users/{officer.id}")
    expect(page.get_by_test_id("grants-elsewhere")).to_be_visible()
    expect(page.get_by_test_id("roles-form")).to_have_count(0)
    expect(page.get_by_test_id("training-form")).to_have_count(0)
    expect(page.get_by_test_id("authorisations")).to_contain_text("Memo 2026-014")
    context.close()
