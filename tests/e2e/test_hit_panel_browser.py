"""Real headless Chromium: "Work" on the last row of a full page brings the hit's panel into view
with the focus on its heading, on a desktop and on a phone; the list pages instead of stopping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from app.auth.models import Role
from app.db import utcnow
from tests.e2e.conftest import sign_in
from tests.factories import (
    DeviceFactory,
    HitFactory,
    HotlistSourceFactory,
    ReadFactory,
    UserFactory,
)

pytestmark = pytest.mark.e2e


def make_hits(count: int) -> list:
    """`count` open hits, a minute apart, newest first."""
    device, source = DeviceFactory(), HotlistSourceFactory()
    now = utcnow()
    return [
        HitFactory(
            source=source,
            read=ReadFactory(device=device, captured_at=now - timedelta(minutes=n)),
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)])
def test_work_on_the_last_row_shows_the_panel_in_view_with_focus(
    page: Page, live_server: str, session, width: int, height: int
):
    hits = make_hits(51)
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server, operator.email)
    page.goto(f"{live_server}/alpr/hits")
    expect(page.get_by_test_id("hits-count")).to_contain_text("51 open hits")
    expect(page.get_by_test_id("hits-count")).to_contain_text("page 1 of 2")
    last = hits[49]  # the 50th newest is the page's last row
    row = page.locator(f"#hit-{last.id}")
    row.scroll_into_view_if_needed()
    row.get_by_role("link", name="Work").click()

    heading = page.locator("#hit-panel-title")
    expect(heading).to_contain_text(f"Hit {last.id}")
    expect(heading).to_be_focused()
    expect(heading).to_be_in_viewport()
    expect(page.locator("#hit-panel").get_by_role("button", name="Verified valid")).to_be_visible()
    box = heading.bounding_box()
    assert box is not None and 0 <= box["y"] < height
    page.screenshot(path=f"/tmp/shots/hit-panel-last-row-{width}.png")


def test_the_list_pages_with_a_total_and_a_page_size(page: Page, live_server: str, session):
    hits = make_hits(105)
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    sign_in(page, live_server, operator.email)
    page.goto(f"{live_server}/alpr/hits")
    count = page.get_by_test_id("hits-count")
    expect(count).to_contain_text("105 open hits · showing 1–50, page 1 of 3")
    expect(page.locator("#hits-live tbody tr")).to_have_count(50)
    pager = page.get_by_test_id("hits-pager")
    pager.get_by_role("link", name="3", exact=True).click()
    expect(count).to_contain_text("showing 101–105, page 3 of 3")
    expect(page.locator(f"#hit-{hits[-1].id}")).to_be_visible()  # the oldest is not cut off
    pager.get_by_role("link", name="100", exact=True).click()
    expect(count).to_contain_text("showing 1–100, page 1 of 2")
    expect(page.locator("#hits-live tbody tr")).to_have_count(100)
    pager.get_by_role("link", name="Older →").click()
    expect(count).to_contain_text("showing 101–105, page 2 of 2")
    page.screenshot(path="/tmp/shots/hits-paged.png", full_page=True)
