"""Real headless Chromium: sign in, see the navigation your roles allow, sign out."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.auth.models import Role
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.e2e


def test_admin_sees_admin_navigation_and_signs_out(page: Page, live_server: str, session):
    admin = UserFactory(roles=[Role.ADMIN], trained=True, name="Alex Admin")
    sign_in(page, live_server, admin.email)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Users & training")).to_be_visible()
    expect(nav.get_by_role("link", name="Audit trail")).to_be_visible()
    expect(page.get_by_test_id("training-status")).to_contain_text("Current")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have been signed out.")).to_be_visible()
    page.goto(f"{live_server}/admin/users")
    expect(page).to_have_url(f"{live_server}/login?next=/admin/users")


def test_operator_navigation_has_no_admin_pages(page: Page, live_server: str, session):
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    sign_in(page, live_server, operator.email)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Home")).to_be_visible()
    expect(nav.get_by_role("link", name="Users & training")).to_have_count(0)
    expect(nav.get_by_role("link", name="Audit trail")).to_have_count(0)


def test_failed_login_shows_a_clear_message(page: Page, live_server: str, session):
    user = UserFactory()
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("definitely-wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Invalid email or password.")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)


def test_pages_load_htmx_without_content_security_policy_violations(
    page: Page, live_server: str, session
):
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    admin = UserFactory(roles=[Role.ADMIN, Role.AUDITOR], trained=True)
    sign_in(page, live_server, admin.email)
    for path in ("/", "/admin/users", "/audit/"):
        page.goto(f"{live_server}{path}")
        assert page.evaluate("typeof window.htmx") == "object", path
    assert problems == []
