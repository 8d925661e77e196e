"""Real Chromium: an irreversible action without the "I understand" tick is refused at the box
with what was typed kept; ticked, it goes through. Releasing a hold and rotating a device token.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.alpr.devices import create_device
from app.auth.models import Role
from app.core.forms import CONFIRM_MESSAGE
from app.reads.models import Device
from app.retention.models import Hold
from tests.e2e.conftest import sign_in
from tests.factories import HoldFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_releasing_a_hold_needs_the_tick(page: Page, live_server: str, session):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    hold = HoldFactory(held_plates=["ABC123"])
    session.commit()

    sign_in(page, live_server, chief.email)
    page.goto(f"{live_server}/retention/holds/{hold.id}/release")
    page.get_by_label("Reason").fill("Suspect charged; data exported")
    page.get_by_role("button", name="Release hold").click()

    expect(page.locator("#confirm_irreversible-err")).to_have_text(CONFIRM_MESSAGE)
    expect(page.get_by_label("Reason")).to_have_value("Suspect charged; data exported")
    session.rollback()
    assert session.scalars(select(Hold.status)).one() == "placed"

    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Release hold").click()
    expect(page.get_by_role("status").filter(has_text=f"Hold {hold.id} released")).to_be_visible()
    session.rollback()
    assert session.scalars(select(Hold.status)).one() == "released"


def test_rotating_a_device_token_needs_the_tick(page: Page, live_server: str, session):
    admin = UserFactory(roles=[Role.ADMIN], trained=True)
    device, _ = create_device(session, "test", serial="ROT-E2E", kind="mobile")
    session.commit()
    old_hash = device.token_hash

    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/alpr/devices/{device.id}")
    page.get_by_role("button", name="Rotate token").click()

    expect(page.locator("#rotate-confirm-err")).to_have_text(CONFIRM_MESSAGE)
    expect(page.get_by_test_id("device-token")).to_have_count(0)
    session.rollback()
    assert session.scalars(select(Device.token_hash)).one() == old_hash

    page.locator("#rotate-confirm").check()
    page.get_by_role("button", name="Rotate token").click()
    expect(page.get_by_test_id("device-token")).to_be_visible()
    session.rollback()
    assert session.scalars(select(Device.token_hash)).one() != old_hash
