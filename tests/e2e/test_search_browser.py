"""Real headless Chromium: a purpose-bound search, a read and its picture; the tracking guard."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from app.auth.models import Role
from app.db import utcnow
from app.reads.images import clean_image, write_image
from app.reads.models import ImageKind, ReadImage
from tests.e2e.conftest import decoded_width, sign_in
from tests.factories import ReadFactory, UserFactory

pytestmark = pytest.mark.e2e


def plate_picture(session, read) -> None:
    """Store a real PNG for `read` the way the image upload does."""
    buffer = io.BytesIO()
    Image.new("RGB", (240, 60), (250, 250, 250)).save(buffer, format="PNG")
    clean = clean_image(buffer.getvalue(), max_bytes=5 * 1024 * 1024)
    info = clean.info
    write_image(session, clean.data, info)
    session.add(
        ReadImage(
            read=read,
            kind=ImageKind.PLATE.value,
            sha256=info.sha256,
            content_type=info.content_type,
            byte_size=info.byte_size,
            width=info.width,
            height=info.height,
        )
    )
    session.commit()


def test_operator_searches_with_a_purpose_and_opens_a_read(page: Page, live_server: str, session):
    now = utcnow()
    ReadFactory(plate="MNX4821", captured_at=now - timedelta(hours=3))
    newest = ReadFactory(plate="MNX4821", captured_at=now - timedelta(minutes=20))
    ReadFactory(plate="OTHER1", captured_at=now - timedelta(minutes=10))
    plate_picture(session, newest)
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    sign_in(page, live_server, operator.email)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Search").click()
    page.get_by_role("button", name="Search").click()  # no purpose, no case number
    expect(page.get_by_role("alert").first).to_be_visible()
    page.get_by_label("Official use").select_option("stolen_or_wanted_vehicle")
    page.get_by_label("Purpose").fill("Stolen vehicle reported by owner")
    page.get_by_label("Case or incident number").fill("24-004411")
    page.get_by_label("Plate").fill("mnx 4821")
    page.screenshot(path="/tmp/shots/search-form.png", full_page=True)
    page.get_by_role("button", name="Search").click()

    expect(page.get_by_test_id("result-count")).to_contain_text("2 reads")
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("MNX4821")
    page.screenshot(path="/tmp/shots/search-results.png", full_page=True)

    rows.first.get_by_role("link", name="Open read").click()
    expect(page.get_by_test_id("read-plate")).to_have_text("MNX4821")
    expect(page).to_have_url(re.compile(rf"/alpr/reads/{newest.id}\?via=search:\d+$"))
    picture = page.get_by_role("img", name=f"Plate picture of read {newest.id}")
    expect(picture).to_be_visible()
    assert decoded_width(picture) == 240


def test_plate_history_without_a_warrant_is_refused(page: Page, live_server: str, session):
    ReadFactory(plate="MNX4821", captured_at=utcnow() - timedelta(days=10))
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    sign_in(page, live_server, operator.email)
    page.goto(f"{live_server}/alpr/plates/MNX4821/history")
    page.get_by_label("Official use").select_option("criminal_investigation")
    page.get_by_label("Purpose").fill("Follow-up on burglary suspect vehicle")
    page.get_by_label("Case or incident number").fill("24-004412")
    page.get_by_role("button", name="Show history").click()
    refusal = page.get_by_test_id("search-refusal")
    expect(refusal).to_contain_text("search warrant")
    expect(refusal).to_contain_text("425.4.1(c)")
    expect(page.locator("table.data")).to_have_count(0)
    page.screenshot(path="/tmp/shots/plate-history-refused.png", full_page=True)

    page.get_by_label("Search warrant number").fill("SW-2024-0091")
    page.get_by_role("button", name="Show history").click()
    expect(page.get_by_test_id("result-count")).to_contain_text("1 read ")
    page.screenshot(path="/tmp/shots/plate-history-results.png", full_page=True)
