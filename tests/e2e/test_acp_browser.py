"""Real Chromium: records staff enter an ACP request, move it to suppression, and a new read of
the participant's plate arriving through the device API is not stored."""

from __future__ import annotations

from pathlib import Path

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
from tests.factories import DeviceFactory, UserFactory
from tests.helpers import PDF

pytestmark = pytest.mark.e2e


def test_records_staff_suppress_a_plate_and_ingest_drops_it(
    page: Page, live_server: str, session, tmp_path: Path
):
    clerk = UserFactory(roles=[Role.RECORDS], trained=True)
    token, digest, hint = new_token()
    device = DeviceFactory(token_hash=digest, token_hint=hint)
    scan = tmp_path / "request.pdf"
    scan.write_bytes(PDF)

    sign_in(page, live_server, clerk.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Retention").click()
    page.get_by_role("link", name="New ACP request").click()
    page.get_by_label("ACP participant number").fill("ACP-2026-17")
    page.get_by_label("Plates").fill("ACP 123")
    page.get_by_label("Request received on").fill(local_today().isoformat())
    page.get_by_label("Scanned request (PDF, PNG or JPEG)").set_input_files(str(scan))
    page.get_by_role("button", name="Record request").click()
    expect(page.get_by_test_id("acp-status")).to_have_text("Received")
    page.get_by_role("button", name="Mark verified").click()
    expect(page.get_by_test_id("acp-status")).to_have_text("Verified")
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Destroy existing data").click()
    expect(page.get_by_test_id("acp-status")).to_have_text("Existing destroyed")
    page.get_by_role("button", name="Activate suppression").click()
    expect(page.get_by_test_id("acp-status")).to_have_text("Suppression active")

    captured = utcnow().replace(microsecond=0).isoformat()
    response = httpx.post(
        f"{live_server}/api/v1/reads",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "reads": [
                {"plate": "ACP123", "captured_at": captured, "latitude": 44.05, "longitude": -91.64}
            ]
        },
    )
    assert response.status_code == 200 and response.json()["destroyed_acp"] == 1
    session.commit()
    assert session.scalars(select(Read).where(Read.device_id == device.id)).all() == []

    page.reload()
    expect(page.get_by_test_id("acp-at-collection")).to_have_text("1")
    page.screenshot(path="/tmp/shots/retention_acp_detail.png", full_page=True)
