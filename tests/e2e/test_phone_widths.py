"""Real Chromium at 390 px: no page scrolls sideways, for any staff role (issue 15 item 8).

The sweep takes every GET page from the app's own URL map, so a page added later is measured
without touching this file (unless it needs the id of a row this file does not seed: then the
test names the variable to add to `seeded_ids`). Each role visits every page with rows in its
tables; a page the role may not reach is skipped only where the access rules predict it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask, current_app
from playwright.sync_api import Browser, BrowserContext

from app.alpr.image_reads import record_ocr_result
from app.alpr.ocr.pipeline import OcrResult
from app.alpr.read_access import search_context
from app.alpr.search import SearchCriteria, SearchRules, perform_search
from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.access import can_reach
from app.auth.models import Role, User
from app.db import utcnow
from app.reads.models import CameraDiscard, DeviceKind, HotlistCategory, ImageKind, PlateStatus
from tests.e2e.conftest import sign_in
from tests.factories import (
    AcpRequestFactory,
    AcpSuppressionFactory,
    ActiveUsePeriodFactory,
    BcaNoticeFactory,
    BreachIncidentFactory,
    DeploymentFactory,
    DeviceFactory,
    ExculpatoryHoldFactory,
    ExculpatoryRequestFactory,
    HitFactory,
    HoldFactory,
    HotlistEntryFactory,
    InvestigationFactory,
    JobRunFactory,
    PurgeRunFactory,
    ReadFactory,
    StoredDocumentFactory,
    UserFactory,
)
from tests.helpers import add_image, plate_picture

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}

#: Each staff role as it works (the confidential-data role is an addition to a main one).
STAFF = {
    "deputy_chief": (Role.DEPUTY_CHIEF, Role.CONFIDENTIAL_DATA),
    "designee": (Role.DESIGNEE,),
    "admin": (Role.ADMIN,),
    "operator": (Role.OPERATOR, Role.CONFIDENTIAL_DATA),
    "records": (Role.RECORDS,),
    "auditor": (Role.AUDITOR,),
}

#: Responses that are files to download or machine data, not pages to lay out.
PAGE_TYPE = "text/html"

PLATE = "ABC1234"


def _searched_by(session, user: User, now) -> str:
    """A real search by `user` of the seeded plate; the id of its results page."""
    search = perform_search(
        session,
        user,
        criteria=SearchCriteria(start=now - timedelta(hours=6), end=now, plate=PLATE),
        purpose_category="stolen_or_wanted_vehicle",
        purpose=f"Looking for {PLATE}, reported stolen from the Winona Mall parking ramp",
        case_number="26-004711",
        rules=SearchRules.from_config(current_app.config),
        now=now,
    )
    return search


def seed(session, app: Flask) -> tuple[dict[str, User], Callable[[str, str, str], str]]:
    """Rows in every table a staff page lists; returns the users and each variable's value."""
    users = {
        name: UserFactory(
            roles=roles,
            trained=True,
            name=f"Sergeant Alexandra Kowalczyk-Hernandez ({name})",
            email=f"alexandra.kowalczyk-hernandez.{name}@police.winona-mn.example.gov",
        )
        for name, roles in STAFF.items()
    }
    now = utcnow()
    deployment = DeploymentFactory(
        location_name="Highway 61 and Huff Street, northbound, mast arm over the right lane",
        device__serial="GENETEC-AUTOVU-SHARPV-0012345678",
        device__description="Fixed camera on the traffic signal mast arm, facing north",
    )
    fixed = deployment.device
    mobile = DeviceFactory(serial="SQUAD-CAR-27-ROOFTOP-LEFT", camera_format="openalpr")
    ActiveUsePeriodFactory(device=mobile)
    session.add(CameraDiscard(device_id=mobile.id, field="vehicle.make_model.confidence", count=1204))
    reads = [
        ReadFactory(device=fixed, plate=PLATE, captured_at=now - timedelta(minutes=10 * n))
        for n in range(1, 5)
    ]
    reads += [ReadFactory(device=mobile) for _ in range(3)]
    add_image(session, reads[0], kind=ImageKind.PLATE.value, content=plate_picture(PLATE))
    hits = [
        HitFactory(read=read, category=category)
        for read, category in zip(
            reads, [c.value for c in HotlistCategory] + [HotlistCategory.WARRANT.value]
        )
    ]
    HotlistEntryFactory(plate=PLATE, source__file_sha256=hashlib.sha256(b"plate file").hexdigest())
    pending = ReadFactory(device=mobile, plate=None, plate_status=PlateStatus.PENDING_OCR.value)
    add_image(session, pending, kind=ImageKind.PLATE.value, content=plate_picture("XYZ9876"))
    record_ocr_result(
        session,
        pending,
        OcrResult("XYZ9876", 0.62, True, {"rapidocr": "XYZ9876", "tesseract": "XYZ9B76"}),
        ImageKind.PLATE,
    )

    investigation = InvestigationFactory(
        title="Burglary series at the Westgate Shopping Center loading docks, spring 2026"
    )
    hold = HoldFactory(
        investigation=investigation, held_plates=[PLATE, "XYZ9876"], held_devices=[fixed]
    )
    InvestigationFactory(title="Hit and run on Mankato Avenue")
    document = StoredDocumentFactory(
        original_name="acp-request-scan-from-the-secretary-of-state-2026-05-01-final.pdf"
    )
    acp = AcpRequestFactory(document_sha256=document.sha256)
    AcpSuppressionFactory(suppressed=["HIDE42"])
    exculpatory = ExculpatoryRequestFactory(
        requester_name="Office of the Minnesota State Public Defender, Third District",
        document_sha256=StoredDocumentFactory().sha256,
    )
    ExculpatoryHoldFactory(request=exculpatory)
    notice = BcaNoticeFactory(device=fixed)
    BcaNoticeFactory(device=mobile)
    breach = BreachIncidentFactory(reported_by_id=users["operator"].id)
    PurgeRunFactory()
    JobRunFactory()
    for user in users.values():
        record(session, user, AuditAction.LOGIN, user, {"address": "127.0.0.1"})
    record(
        session,
        users["operator"],
        AuditAction.HIT_CLOSED,
        hits[0],
        {"outcome": "no action", "note": "x" * 120, "digest": document.sha256},
    )
    searches = {
        name: _searched_by(session, user, now)
        for name, user in users.items()
        if user.has_role(Role.OPERATOR, Role.ADMIN, Role.DEPUTY_CHIEF, Role.DESIGNEE)
    }
    session.commit()

    shared = {
        "user_id": users["records"].id,
        "device_id": fixed.id,
        "hit_id": hits[0].id,
        "read_id": reads[0].id,
        "plate": PLATE,
        "kind": ImageKind.PLATE.value,
        "investigation_id": investigation.id,
        "notice_id": notice.id,
        "incident_id": breach.id,
        "hold_id": hold.id,
    }
    request_ids = {"retention.acp_detail": acp.id, "retention.exculpatory_detail": exculpatory.id}

    def value(role: str, endpoint: str, variable: str) -> str:
        if endpoint in request_ids and variable == "request_id":
            return str(request_ids[endpoint])
        if variable == "search_id":
            return str(searches.get(role, searches["operator"]).id)
        if variable in shared:
            return str(shared[variable])
        raise AssertionError(
            f"{endpoint}: no seeded row for <{variable}>; seed one and add it to seed()"
        )

    return users, value, searches


def get_pages(app: Flask) -> list[tuple[str, str]]:
    """Every GET rule that may answer a page: no static files, no API, no named files."""
    rules = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        if rule.rule.startswith("/api/") or rule.endpoint.endswith(".static"):
            continue
        rules.append((rule.endpoint, rule.rule))
    return sorted(rules, key=lambda pair: pair[1])


def test_no_page_scrolls_sideways_at_390px_for_any_staff_role(
    browser: Browser, live_server: str, session, app: Flask
):
    users, value, searches = seed(session, app)
    pages = get_pages(app)
    overflowing: list[str] = []
    measured: set[str] = set()
    for role, user in users.items():
        context: BrowserContext = browser.new_context(viewport=PHONE)
        page = context.new_page()
        sign_in(page, live_server, user.email)
        for endpoint, rule in pages:
            with app.test_request_context():
                from flask import url_for

                arguments = {
                    name: value(role, endpoint, name)
                    for name in app.url_map._rules_by_endpoint[endpoint][0].arguments
                }
                path = url_for(endpoint, **arguments)
                reachable = can_reach(user, endpoint)
            if endpoint == "alpr.read_detail" and role in searches:
                path += f"?via={search_context(searches[role])}"
            answer = context.request.get(f"{live_server}{path}")
            if answer.status in (403, 404):
                assert answer.status != 403 or not reachable, f"{role} refused {path}"
                continue
            assert answer.ok, f"{role} {path}: {answer.status}"
            if not answer.headers.get("content-type", "").startswith(PAGE_TYPE):
                continue
            page.goto(f"{live_server}{path}")
            measured.add(endpoint)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                overflowing.append(f"{role} {path}: {width}px")
                page.screenshot(path=f"/tmp/shots/phone_{role}_{endpoint}.png", full_page=True)
        context.close()
    assert not overflowing, "\n".join(overflowing)
