"""Browser-test helpers: sign a real Chromium page in through the login form."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.e2e


def sign_in(page: Page, base_url: str, email: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()


def decoded_width(picture: Locator) -> int:
    """The picture's natural width once the browser has fetched and decoded it.

    A visible `<img>` may still be loading (the review queue's are lazy), so reading
    `naturalWidth` straight away races the image request; `decode()` waits for it,
    once the picture is in view so that a lazy one is fetched at all.
    """
    picture.scroll_into_view_if_needed()
    return picture.evaluate("img => img.decode().then(() => img.naturalWidth, () => 0)")
