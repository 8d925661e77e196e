"""Real Chromium, at 1280 and 390 px: a refused form lists every error at its top and focuses
the first field in error; a new device's token is shown once after a redirect, with a copy
button, and a reload neither shows it again nor registers the device twice."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import func, select

from app.auth.models import Role
from app.reads.models import Device
from tests.e2e.conftest import sign_in
from tests.factories import InvestigationFactory, UserFactory

pytestmark = pytest.mark.e2e

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", list(WIDTHS))
def test_every_error_is_listed_and_the_first_field_has_the_focus(
    browser: Browser, live_server: str, session, size: str
):
    admin = UserFactory(roles=[Role.ADMIN], trained=True)
    InvestigationFactory()
    session.commit()
    context = browser.new_context(viewport=WIDTHS[size])
    page = context.new_page()
    sign_in(page, live_server, admin.email)

    page.goto(f"{live_server}/retention/holds/new")
    expect(page.locator("input[type=datetime-local]")).to_have_count(2)
    page.get_by_label("Plates").fill("ABC123\x00")
    page.get_by_label("Why the data is needed").fill("Burglary\x00 series")
    page.get_by_role("button", name="Place hold").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link")).to_have_count(2)
    expect(summary).to_contain_text("control characters")
    expect(page.locator("#plates")).to_be_focused()
    summary.get_by_role("link").last.click()
    expect(page.locator("#description")).to_be_focused()
    page.screenshot(path=f"/tmp/shots/forms_hold_errors_{size}.png", full_page=True)

    page.goto(f"{live_server}/retention/exculpatory/new")
    page.get_by_role("button", name="Record request").click()
    expect(page.get_by_test_id("choose-file-again")).to_be_visible()
    filter_box = page.get_by_role("searchbox", name="Filter devices")
    expect(filter_box).to_be_visible()
    page.screenshot(path=f"/tmp/shots/forms_exculpatory_errors_{size}.png", full_page=True)
    context.close()


@pytest.mark.parametrize("size", list(WIDTHS))
def test_a_new_token_is_shown_once_and_a_reload_does_not_resubmit(
    browser: Browser, live_server: str, session, size: str
):
    admin = UserFactory(roles=[Role.ADMIN], trained=True)
    session.commit()
    context = browser.new_context(viewport=WIDTHS[size])
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in(page, live_server, admin.email)

    page.goto(f"{live_server}/alpr/devices/new")
    page.get_by_label("Serial number").fill(f"PRG-{size}")
    page.get_by_role("button", name="Register device").click()
    token = page.get_by_test_id("device-token")
    expect(token).to_be_visible()
    assert "/alpr/devices/" in page.url and not page.url.endswith("/new")
    copy = page.locator("button[data-copy=device-token]")
    expect(copy).to_have_text("Copy token")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token.text_content().strip()
    page.screenshot(path=f"/tmp/shots/forms_token_{size}.png", full_page=True)

    page.reload()
    expect(page.get_by_test_id("device-token")).to_have_count(0)
    session.expire_all()
    registered = select(func.count()).select_from(Device).where(Device.serial == f"PRG-{size}")
    assert session.scalar(registered) == 1
    context.close()
