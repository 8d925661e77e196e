"""Real Chromium, desktop and 390 px: each role's home page shows its own queue, with counts
that link to their lists and that the htmx poll keeps up to date."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from app.auth.models import Role
from app.core.timeutil import local_today
from app.db import utcnow
from app.reads.models import PlateStatus
from app.requests.models import RequestStatus
from app.retention.models import AcpStatus
from tests.e2e.conftest import sign_in
from tests.factories import (
    AcpRequestFactory,
    AgencyFactory,
    AgencyRequestFactory,
    BcaNoticeFactory,
    DeviceFactory,
    ExculpatoryRequestFactory,
    HitFactory,
    ReadFactory,
    SearchFactory,
    TrainingRecordFactory,
    UserFactory,
)
from tests.helpers import HOME_CARDS

pytestmark = pytest.mark.e2e

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
CARDS = HOME_CARDS


def _open_home(browser: Browser, live_server: str, email: str, size: str) -> Page:
    page = browser.new_context(viewport=WIDTHS[size]).new_page()
    sign_in(page, live_server, email)
    expect(page.get_by_test_id("work-queue")).to_be_visible()
    return page


def _check_page(page: Page, name: str, size: str, shown: set[str]) -> None:
    for card in CARDS:
        expect(page.get_by_test_id(card)).to_have_count(1 if card in shown else 0)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[size]["width"]
    page.screenshot(path=f"/tmp/shots/home_{name}_{size}.png", full_page=True)


@pytest.mark.parametrize("size", list(WIDTHS))
def test_the_operator_sees_open_hits_by_age_plates_to_review_and_searches(
    browser: Browser, live_server: str, session, size: str
):
    operator = UserFactory(roles=[Role.OPERATOR], trained=True, name="Olive Operator")
    now = utcnow()
    HitFactory(read__captured_at=now - timedelta(minutes=5))
    HitFactory(read__captured_at=now - timedelta(minutes=20))
    HitFactory(read__captured_at=now - timedelta(hours=30))
    for _ in range(2):
        ReadFactory(plate_status=PlateStatus.NEEDS_REVIEW.value)
    search = SearchFactory(user=operator, case_number="25-000777", result_count=4)

    page = _open_home(browser, live_server, operator.email, size)
    expect(page.get_by_test_id("hits-open")).to_have_text("3 open hits")
    expect(page.get_by_test_id("hits-age-1")).to_have_text("2")
    expect(page.get_by_test_id("hits-age-2")).to_have_text("0")
    expect(page.get_by_test_id("hits-age-3")).to_have_text("1")
    expect(page.get_by_test_id("review-waiting")).to_have_text("2")
    expect(page.get_by_test_id("card-searches")).to_contain_text("25-000777")
    _check_page(page, "operator", size, {"card-hits", "card-review", "card-searches"})

    expect(page.get_by_test_id("card-searches").get_by_role("link").first).to_have_attribute(
        "href", f"/alpr/searches/{search.id}"
    )
    page.get_by_test_id("review-waiting").click()
    expect(page).to_have_url(f"{live_server}/alpr/review")
    page.go_back()
    page.get_by_test_id("hits-open").click()
    expect(page).to_have_url(f"{live_server}/alpr/hits")
    expect(page.locator("table.data tbody tr")).to_have_count(3)
    page.context.close()


def test_the_poll_brings_a_new_hit_into_the_count(browser: Browser, live_server: str, session):
    operator = UserFactory(roles=[Role.OPERATOR], trained=True)
    HitFactory()
    page = browser.new_context(viewport=WIDTHS["desktop"]).new_page()
    page.clock.install()
    sign_in(page, live_server, operator.email)
    expect(page.get_by_test_id("hits-open")).to_have_text("1 open hit")
    HitFactory()
    HitFactory()
    page.clock.run_for(31_000)
    expect(page.get_by_test_id("hits-open")).to_have_text("3 open hits")
    expect(page.get_by_test_id("hits-age-1")).to_have_text("3")
    page.context.close()


@pytest.mark.parametrize("size", list(WIDTHS))
def test_records_staff_see_the_retention_requests_waiting(
    browser: Browser, live_server: str, session, size: str
):
    clerk = UserFactory(roles=[Role.RECORDS], trained=True, name="Rita Records")
    AcpRequestFactory()
    AcpRequestFactory()
    verified = AcpRequestFactory(status=AcpStatus.VERIFIED.value)
    ExculpatoryRequestFactory()

    page = _open_home(browser, live_server, clerk.email, size)
    expect(page.get_by_test_id("acp-to-verify")).to_have_text("2")
    expect(page.get_by_test_id("acp-to-destroy")).to_have_text("1")
    expect(page.get_by_test_id("exculpatory-received")).to_have_text("1")
    _check_page(page, "records", size, {"card-retention"})
    page.get_by_role("link", name=f"ACP #{verified.id}").click()
    expect(page).to_have_url(f"{live_server}/retention/acp/{verified.id}")
    page.context.close()


@pytest.mark.parametrize("role", [Role.DEPUTY_CHIEF, Role.DESIGNEE], ids=lambda r: r.value)
@pytest.mark.parametrize("size", list(WIDTHS))
def test_the_deputy_chief_and_designee_see_approvals_notices_counters_and_training(
    browser: Browser, live_server: str, session, size: str, role: Role
):
    from app.reports.services import check_compliance

    chief = UserFactory(roles=[role], trained=True, name="Dana Chief")
    for _ in range(3):
        AgencyRequestFactory()
    AgencyRequestFactory(status=RequestStatus.UNDER_REVIEW.value)
    BcaNoticeFactory(event_on=local_today() - timedelta(days=12))
    lapsing = UserFactory(roles=[Role.OPERATOR], name="Lapsing Larry")
    TrainingRecordFactory(user=lapsing, expires_on=local_today() + timedelta(days=9))
    SearchFactory(purpose_category=None)
    check_compliance(session, "test", utcnow(), retention_days=60, today=local_today())
    session.commit()

    page = _open_home(browser, live_server, chief.email, size)
    expect(page.get_by_test_id("requests-submitted")).to_have_text("3")
    expect(page.get_by_test_id("requests-under_review")).to_have_text("1")
    expect(page.get_by_test_id("bca-due-count")).to_have_text("1 notice")
    expect(page.get_by_test_id("counter-searches_without_purpose_or_case")).to_contain_text("1")
    expect(page.get_by_test_id("training-lapsing-count")).to_have_text("1 person")
    expect(page.get_by_test_id("card-training-lapsing")).to_contain_text("Lapsing Larry")
    shown = {
        "card-retention",
        "card-requests",
        "bca-due",
        "compliance-counters",
        "card-training-lapsing",
    }
    _check_page(page, role.value, size, shown)
    page.get_by_test_id("requests-submitted").click()
    expect(page).to_have_url(f"{live_server}/requests?state=submitted")
    expect(page.get_by_label("State")).to_have_value("submitted")
    page.context.close()


@pytest.mark.parametrize("size", list(WIDTHS))
def test_the_administrator_sees_silent_devices_and_tokens_to_rotate(
    browser: Browser, live_server: str, session, size: str
):
    admin = UserFactory(roles=[Role.ADMIN], trained=True, name="Alex Admin")
    now = utcnow()
    quiet = DeviceFactory(serial="CAM-QUIET", last_seen_at=now - timedelta(hours=40))
    DeviceFactory(serial="CAM-BUSY", last_seen_at=now - timedelta(minutes=3))
    DeviceFactory(serial="CAM-OLDKEY", token_issued_at=now - timedelta(days=500), last_seen_at=now)

    page = _open_home(browser, live_server, admin.email, size)
    expect(page.get_by_test_id("silent-devices-count")).to_have_text("1 active device")
    expect(page.get_by_test_id("card-silent-devices")).to_contain_text("CAM-QUIET")
    expect(page.get_by_test_id("card-silent-devices")).not_to_contain_text("CAM-BUSY")
    expect(page.get_by_test_id("tokens-count")).to_have_text("1 device token")
    expect(page.get_by_test_id("card-tokens")).to_contain_text("CAM-OLDKEY")
    _check_page(page, "admin", size, {"bca-due", "card-silent-devices", "card-tokens"})
    page.get_by_role("link", name="CAM-QUIET").click()
    expect(page).to_have_url(f"{live_server}/alpr/devices/{quiet.id}")
    page.context.close()


@pytest.mark.parametrize("size", list(WIDTHS))
def test_the_auditor_sees_the_last_verification_and_report(
    browser: Browser, live_server: str, session, size: str
):
    from app.audit.services import verify_and_record

    auditor = UserFactory(roles=[Role.AUDITOR], trained=True, name="Audrey Auditor")
    verify_and_record(session, auditor)
    session.commit()

    page = _open_home(browser, live_server, auditor.email, size)
    expect(page.get_by_test_id("audit-status")).to_contain_text("intact")
    expect(page.get_by_test_id("report-status")).to_contain_text("No biennial report")
    _check_page(page, "auditor", size, {"card-audit"})
    page.get_by_role("link", name="Biennial report").click()
    expect(page).to_have_url(f"{live_server}/reports/biennial")
    page.context.close()


@pytest.mark.parametrize("size", list(WIDTHS))
def test_an_agency_user_sees_its_requests(browser: Browser, live_server: str, session, size: str):
    agency = AgencyFactory(name="Goodhue County Sheriff")
    user = UserFactory(roles=[Role.AGENCY], agency=agency, name="Gus Goodhue")
    AgencyRequestFactory(agency=agency, status=RequestStatus.NEEDS_INFORMATION.value)
    AgencyRequestFactory(agency=agency)
    AgencyRequestFactory(agency=agency)
    AgencyRequestFactory()

    page = _open_home(browser, live_server, user.email, size)
    expect(page.get_by_test_id("agency-needs_information")).to_have_text("1")
    expect(page.get_by_test_id("agency-pending")).to_have_text("2")
    _check_page(page, "agency", size, {"card-agency-requests"})
    page.get_by_test_id("agency-pending").click()
    expect(page).to_have_url(f"{live_server}/portal")
    page.context.close()
