"""Real Chromium at 390 px: no page scrolls sideways, for any staff role (issue 15 item 8).

The sweep takes every GET page from the app's own URL map, so a page added later is measured
without touching this file (unless it needs the id of a row this file does not seed: then the
test names the variable to seed in `seed`). Each role visits every page with rows in its
tables; a page the role may not reach is skipped only where the access rules predict it, and
every page some role may reach must have been measured.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask import Flask, current_app, url_for
from playwright.sync_api import Browser
from werkzeug.routing import Rule

from app.alpr.image_reads import record_ocr_result
from app.alpr.ocr.pipeline import OcrResult
from app.alpr.read_access import search_context
from app.alpr.search import SearchCriteria, SearchRules, perform_search, view_results
from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.access import ALPR_DATA_ROLES, can_reach
from app.auth.models import Role, User
from app.core.storage import content_path
from app.db import utcnow
from app.reads.models import CameraDiscard, HotlistCategory, ImageKind, PlateStatus, Search
from app.requests.invitations import invite_agency_user
from app.requests.models import ReleasePackage
from tests.e2e.conftest import sign_in
from tests.factories import (
    AcpRequestFactory,
    AcpSuppressionFactory,
    ActiveUsePeriodFactory,
    AgencyRequestFactory,
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

#: Routes named as files (`/audit/export.csv`, a letter's `letter.pdf`) are downloads, and so is
#: an agency's release package (`/portal/packages/<id>/download`, a ZIP).
NAMED_FILES = (".csv", ".json", ".pdf", "/download")

PLATE = "ABC1234"


def _searched_by(session, user: User, now: datetime) -> Search:
    """A real search by `user` of the seeded plate, its results seen (so its reads open)."""
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
    view_results(session, user, search, 1)
    return search


def seed(session) -> tuple[dict[str, User], Callable[[str, Rule], str]]:
    """Rows in every table a page lists; returns the users (each staff role and an agency's
    user) and each page's URL for a role."""
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
    session.add(
        CameraDiscard(device_id=mobile.id, field="vehicle.make_model.confidence", count=1204)
    )
    reads = [
        ReadFactory(device=fixed, plate=PLATE, captured_at=now - timedelta(minutes=10 * n))
        for n in range(1, 5)
    ]
    reads += [ReadFactory(device=mobile) for _ in range(3)]
    add_image(session, reads[0], kind=ImageKind.PLATE.value, content=plate_picture(PLATE))
    categories = [category.value for category in HotlistCategory]
    hits = [
        HitFactory(read=read, category=categories[n % len(categories)])
        for n, read in enumerate(reads[:6])
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
        original_name="ACP_request_scan_SecretaryOfState_20260501_final_signed.pdf"
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
    JobRunFactory(
        name="destroy_acp_existing_data", arguments_json=f'{{"acp_request_id": {acp.id}}}', total=9
    )
    for user in users.values():
        record(session, user, AuditAction.LOGIN, user, {"address": "127.0.0.1"})
    record(
        session,
        users["operator"],
        AuditAction.HIT_CLOSED,
        hits[0],
        {"outcome": "no action", "note": "x" * 120, "digest": document.sha256},
    )
    agency_request = AgencyRequestFactory()
    letter = content_path(current_app.config["DOCUMENT_STORE"], agency_request.letter_sha256)
    letter.parent.mkdir(parents=True, exist_ok=True)
    letter.write_bytes(b"%PDF-1.4 the agency's signed letter")
    for scanned in (acp, exculpatory):  # the written requests' scans open as downloads
        scan = content_path(current_app.config["DOCUMENT_STORE"], scanned.document_sha256)
        scan.parent.mkdir(parents=True, exist_ok=True)
        scan.write_bytes(b"%PDF-1.4 a scanned written request")
    package = ReleasePackage(request=agency_request, job_run=JobRunFactory(name="build_release"))
    session.add(package)
    session.flush()
    _, invitation_token = invite_agency_user(
        session,
        users["admin"],
        agency_request.agency,
        name="Det. Morgan Inviteson",
        email="morgan.inviteson@sheriff.example.gov",
        now=now,
    )
    searches = {
        name: _searched_by(session, user, now)
        for name, user in users.items()
        if user.has_role(*ALPR_DATA_ROLES)
    }
    # The outside agency's user who sent the request: their portal is measured too.
    users["agency"] = agency_request.submitted_by
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
        "agency_id": agency_request.agency_id,
        "package_id": package.id,
        "token": invitation_token,
    }
    request_ids = {
        "retention.acp_detail": acp.id,
        "retention.acp_destruction": acp.id,
        "retention.exculpatory_detail": exculpatory.id,
        "requests.review": agency_request.id,
        "requests.letter": agency_request.id,
        "requests.package_progress": agency_request.id,
        "requests.portal_detail": agency_request.id,
        "retention.acp_document": acp.id,
        "retention.exculpatory_document": exculpatory.id,
    }

    def path_for(role: str, rule: Rule) -> str:
        """The rule's URL with seeded ids; a read and its pictures open in the role's search."""
        values = {}
        for variable in rule.arguments:
            if variable == "request_id" and rule.endpoint in request_ids:
                values[variable] = request_ids[rule.endpoint]
            elif variable == "search_id":
                values[variable] = searches.get(role, searches["operator"]).id
            elif variable in shared:
                values[variable] = shared[variable]
            else:
                raise AssertionError(f"{rule.endpoint}: seed a row for <{variable}> in seed()")
        if "read_id" in rule.arguments and role in searches:
            values["via"] = search_context(searches[role])
        return url_for(rule.endpoint, **values)

    return users, path_for


def get_rules(app: Flask) -> list[Rule]:
    """Every GET rule that may answer a page: no static files, no API, no named files."""
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if "GET" in (rule.methods or ())
            and rule.endpoint != "static"
            and not rule.rule.startswith("/api/")
            and not rule.rule.endswith(NAMED_FILES)
        ),
        key=lambda rule: rule.rule,
    )


def test_no_page_scrolls_sideways_at_390px_for_any_role(
    browser: Browser, live_server: str, session, app: Flask, tmp_path
):
    users, path_for = seed(session)
    overflowing: list[str] = []
    measured: set[str] = set()
    reachable: set[str] = set()
    downloads: set[str] = set()
    for role, user in users.items():
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        sign_in(page, live_server, user.email)
        for rule in get_rules(app):
            with app.test_request_context():
                path = path_for(role, rule)
                may_reach = can_reach(user, rule.endpoint)
            if may_reach:
                reachable.add(rule.endpoint)
            answer = context.request.get(f"{live_server}{path}")
            if answer.status in (403, 404):
                assert answer.status != 403 or not may_reach, f"{role} refused {path}"
                continue
            assert answer.ok, f"{role} {path}: {answer.status}"
            if not answer.headers.get("content-type", "").startswith("text/html"):
                downloads.add(rule.endpoint)  # a CSV, JSON, PDF or picture, not a page
                continue
            page.goto(f"{live_server}{path}")
            measured.add(rule.endpoint)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                shot = tmp_path / f"{role}-{rule.endpoint}.png"
                page.screenshot(path=str(shot), full_page=True)
                overflowing.append(f"{role} {path}: {width}px wide (see {shot})")
        context.close()
    assert not overflowing, "\n".join(overflowing)
    unseen = reachable - downloads - measured
    assert not unseen, f"no role was shown {sorted(unseen)}: seed the rows they need"
