"""Real Chromium: the destruction of an ACP participant's existing data shows its job's bar,
polled until the job is done, then its result and the next step (issue 15 item 9)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from app.auth.models import Role
from app.jobs.models import JobRun, JobStatus
from app.jobs.services import create_run, mark_done, report_progress
from app.retention.acp.lifecycle import verify_acp_request
from app.retention.models import AcpRequest, AcpStatus
from tests.e2e.conftest import sign_in
from tests.factories import AcpRequestFactory, ReadFactory, UserFactory
from tests.helpers import enter_acp_request

pytestmark = pytest.mark.e2e

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", list(WIDTHS))
def test_destroying_existing_data_shows_the_bar_done_and_the_result(
    browser: Browser, live_server: str, session, size: str
):
    clerk = UserFactory(roles=[Role.RECORDS], trained=True)
    for _ in range(3):
        ReadFactory(plate="ACP123")
    request = enter_acp_request(session, "ACP123")
    verify_acp_request(session, clerk, request)
    session.commit()

    page = browser.new_context(viewport=WIDTHS[size]).new_page()
    sign_in(page, live_server, clerk.email)
    page.goto(f"{live_server}/retention/acp/{request.id}")
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Destroy existing data").click()
    bar = page.get_by_test_id("acp-destruction-progress")
    expect(bar).to_have_attribute("value", "3")
    expect(bar).to_have_attribute("max", "3")
    expect(page.get_by_test_id("acp-destruction-progress-text")).to_have_text("done: 3 of 3 reads")
    expect(page.get_by_test_id("acp-destruction-result")).to_contain_text("3 reads")
    expect(page.get_by_role("button", name="Activate suppression")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[size]["width"]
    page.screenshot(path=f"/tmp/shots/acp_destruction_done_{size}.png", full_page=True)
    page.context.close()


def test_the_bar_polls_a_running_job_until_it_is_done(browser: Browser, live_server: str, session):
    clerk = UserFactory(roles=[Role.RECORDS], trained=True)
    request = AcpRequestFactory(status=AcpStatus.VERIFIED.value)
    run = create_run(session, "destroy_acp_existing_data", acp_request_id=request.id)
    run.status = JobStatus.RUNNING.value
    report_progress(run, 40, 160)
    session.commit()

    page = browser.new_context(viewport=WIDTHS["desktop"]).new_page()
    sign_in(page, live_server, clerk.email)
    page.goto(f"{live_server}/retention/acp/{request.id}")
    text = page.get_by_test_id("acp-destruction-progress-text")
    expect(text).to_have_text("40 of 160 reads (25%)")
    page.screenshot(path="/tmp/shots/acp_destruction_running.png", full_page=True)

    report_progress(session.get(JobRun, run.id), 120, 160)
    session.commit()
    expect(text).to_have_text("120 of 160 reads (75%)")

    done = session.get(JobRun, run.id)
    mark_done(session, done, {"destroyed": 160, "images": 12, "deferred": 0})
    session.get(AcpRequest, request.id).status = AcpStatus.EXISTING_DESTROYED.value
    session.commit()
    expect(page.get_by_test_id("acp-destruction-result")).to_contain_text(
        "160 reads and 12 pictures destroyed"
    )
    expect(page.get_by_test_id("acp-status")).to_have_text("Existing destroyed")
    expect(text).to_have_text("done: 160 of 160 reads")
    page.context.close()
