"""Real Chromium: records staff enter an ACP request on the reference of its paper original,
and from that moment a new read of the participant's plate arriving through the device API is
not stored; the request moves to suppression. The Deputy Chief declines another request."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.auth.models import Role
from app.core.timeutil import local_today
from app.core.tokens import new_token
from app.db import utcnow
from app.reads.models import Read
from tests.e2e.conftest import sign_in
from tests.factories import AcpRequestFactory, DeviceFactory, UserFactory
from tests.helpers import PAPER_ORIGINAL

pytestmark = pytest.mark.e2e


def _send(live_server: str, token: str, plate: str, seconds_ago: int) -> dict:
    captured = (utcnow() - timedelta(seconds=seconds_ago)).replace(microsecond=0)
    response = httpx.post(
        f"{live_server}/api/v1/reads",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "reads": [
                {
                    "plate": plate,
                    "captured_at": captured.isoformat(),
                    "latitude": 44.05,
                    "longitude": -91.64,
                }
            ]
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_records_suppress_a_plate_from_the_entry_and_ingest_drops_it(
    page: Page, live_server: str, session
):
    clerk = UserFactory(roles=[Role.RECORDS], trained=True)
    token, digest, hint = new_token()
    device = DeviceFactory(token_hash=digest, token_hint=hint)

    sign_in(page, live_server, clerk.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Retention").click()
    page.get_by_role("link", name="New ACP request").click()
    page.get_by_label("ACP participant number").fill("ACP-2026-17")
    page.get_by_label("Plates").fill("ACP 123")
    page.get_by_label("Request received on").fill(local_today().isoformat())
    page.get_by_role("button", name="Record request").click()
    expect(page.locator("#document-err")).to_contain_text("The written request is required")
    expect(page.get_by_label("ACP participant number")).to_have_value("ACP-2026-17")
    page.get_by_label("Paper original on file").fill(PAPER_ORIGINAL)
    page.get_by_role("button", name="Record request").click()
    expect(page.get_by_test_id("acp-status")).to_have_text("Received")
    expect(page.get_by_test_id("written-request")).to_have_text(f"paper original: {PAPER_ORIGINAL}")

    assert _send(live_server, token, "ACP123", 60)["destroyed_acp"] == 1, "suppressed at entry"
    page.reload()
    expect(page.get_by_test_id("acp-at-collection")).to_have_text("1")
    page.screenshot(path="/tmp/shots/retention_acp_received.png", full_page=True)

    page.get_by_role("button", name="Mark verified").click()
    expect(page.get_by_test_id("acp-status")).to_have_text("Verified")
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Destroy existing data").click()
    expect(page.get_by_test_id("acp-status")).to_have_text("Existing destroyed")
    page.get_by_role("button", name="Activate suppression").click()
    expect(page.get_by_test_id("acp-status")).to_have_text("Suppression active")

    assert _send(live_server, token, "ACP123", 0)["destroyed_acp"] == 1
    session.commit()
    assert session.scalars(select(Read).where(Read.device_id == device.id)).all() == []
    page.reload()
    expect(page.get_by_test_id("acp-at-collection")).to_have_text("2")
    page.screenshot(path="/tmp/shots/retention_acp_detail.png", full_page=True)


def test_the_deputy_chief_declines_a_request_that_could_not_be_verified(
    page: Page, live_server: str, session
):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    request = AcpRequestFactory(status="verified", paper_original=PAPER_ORIGINAL)
    session.commit()

    sign_in(page, live_server, chief.email)
    page.goto(f"{live_server}/retention/acp/{request.id}")
    for width, name in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"/tmp/shots/retention_acp_decline_{name}.png", full_page=True)
    decline = page.locator('[data-step="decline"]')
    decline.get_by_role("button", name="Decline request").click()
    expect(decline.locator("#acp-decline-confirm-err")).to_contain_text("Tick the box")
    decline.get_by_label("Reason for declining").fill("Not enrolled in the program (SOS check).")
    decline.get_by_label("I understand this cannot be undone").check()
    decline.get_by_role("button", name="Decline request").click()
    expect(page.get_by_test_id("acp-status")).to_have_text("Declined")
    expect(page.get_by_test_id("acp-decline-reason")).to_have_text(
        "Not enrolled in the program (SOS check)."
    )
