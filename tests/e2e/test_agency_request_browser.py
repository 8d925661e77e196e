"""Real Chromium, the whole 425.7 path: an agency user submits a request (a wrong field first,
the letter kept), the Deputy Chief approves it with a finding (refused without one), staff build
the release package on a real RQ worker and watch its progress, and the agency downloads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from app.auth.models import Role
from app.core.timeutil import display_zone
from app.db import utcnow
from tests.e2e.conftest import sign_in
from tests.factories import AgencyProfileFactory, DeviceFactory, ReadFactory, UserFactory
from tests.helpers import add_image, plate_picture, serve, signed_letter

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
FINDING = "A witness saw ABC123 leave the burglary; its reads show where it went next."


def local(moment) -> str:
    return moment.astimezone(display_zone()).strftime("%Y-%m-%dT%H:%M")


def no_sideways_scroll(page) -> None:
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def test_an_agency_request_from_submission_to_download(
    browser: Browser, make_app, session, redis_url, instance_dir, tmp_path
):
    prefix = f"alpr-e2e-{uuid.uuid4().hex[:8]}-"
    app = make_app(REDIS_URL=redis_url, RQ_QUEUE_PREFIX=prefix)
    profile = AgencyProfileFactory(agency__name="Rochester Police Department")
    requester = UserFactory(roles=[Role.AGENCY], agency=profile.agency, name="Det. Rae Quester")
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    device = DeviceFactory(serial="CAM-WEST")
    for hours in (5, 4, 3):
        read = ReadFactory(
            plate="ABC123", device=device, captured_at=utcnow() - timedelta(hours=hours)
        )
        add_image(session, read, "plate", content=plate_picture("ABC123", fmt="JPEG"))
    ReadFactory(plate="ZZZ999", device=device, captured_at=utcnow() - timedelta(hours=2))
    letter = tmp_path / "chief-letter.pdf"
    letter.write_bytes(signed_letter())

    with serve(app) as base:
        # --- the agency submits; a window outside retention is refused, nothing is lost
        agency = browser.new_context(viewport=DESKTOP, accept_downloads=True)
        page = agency.new_page()
        sign_in(page, base, requester.email)
        page.get_by_role("link", name="Your agency's requests").click()
        page.get_by_role("link", name="New request").first.click()
        page.get_by_label("Intended purpose").fill("Locate the vehicle seen leaving a burglary")
        page.get_by_label("Factual basis").fill("A witness gave the plate ABC123; case 25-000123.")
        page.get_by_label("Case, complaint or incident number").fill("RPD-25-000123")
        page.get_by_label("Authorised by").select_option("head")
        page.get_by_label("Signed letter of authorisation (PDF, PNG or JPEG)").set_input_files(
            str(letter)
        )
        page.get_by_label("Data from").fill(local(utcnow() - timedelta(days=90)))
        page.get_by_label("Data until").fill(local(utcnow() - timedelta(minutes=30)))
        page.get_by_label("Plates").fill("ABC 123")
        page.get_by_role("button", name="Submit request").click()
        expect(page.locator("#window_start-err")).to_contain_text("60 days at most")
        expect(page.get_by_label("Intended purpose")).to_have_value(
            "Locate the vehicle seen leaving a burglary"
        )
        expect(page.get_by_test_id("letter-kept")).to_contain_text("chief-letter.pdf")
        page.get_by_label("Data from").fill(local(utcnow() - timedelta(days=1)))
        page.get_by_role("button", name="Submit request").click()
        expect(page.get_by_test_id("request-state")).to_have_text("Submitted")
        request_url = page.url

        # --- the Deputy Chief approves, with a finding (refused without one)
        reviewer = browser.new_context(viewport=DESKTOP)
        review = reviewer.new_page()
        sign_in(review, base, chief.email)
        expect(review.get_by_test_id("requests-waiting")).to_contain_text("1 new request")
        review.get_by_role("link", name="Open the approval queue").click()
        review.get_by_role("link", name="#", exact=False).first.click()
        expect(review.get_by_test_id("scope-count")).to_contain_text("3")
        review.get_by_role("button", name="Start review").click()
        expect(review.get_by_test_id("request-state")).to_have_text("Under review")
        approve = review.locator('[data-step="approve"]')
        approve.get_by_label("I understand this cannot be undone").check()
        approve.get_by_role("button", name="Approve release").click()
        expect(review.locator("#finding-err")).to_contain_text("reasonable suspicion")
        expect(review.get_by_test_id("request-state")).to_have_text("Under review")
        approve = review.locator('[data-step="approve"]')
        approve.get_by_label("Reasonable-suspicion finding").fill(FINDING)
        approve.get_by_label("I understand this cannot be undone").check()
        approve.get_by_role("button", name="Approve release").click()
        expect(review.get_by_test_id("request-state")).to_have_text("Approved")
        expect(review.get_by_test_id("finding")).to_have_text(FINDING)

        # --- staff build the package and watch its progress; a real RQ worker builds it
        review.get_by_role("button", name="Build release package").click()
        expect(review.get_by_test_id("package-progress")).to_be_visible()
        review.screenshot(path="/tmp/shots/agency_request_building.png", full_page=True)
        worker_done = threading.Event()
        outcome: dict = {}

        def run_worker() -> None:
            env = {
                **os.environ,
                "DATABASE_URL": app.config["DATABASE_URL"],
                "REDIS_URL": redis_url,
                "ALPR_INSTANCE_PATH": str(instance_dir),
                "ALPR_IMAGE_STORE": app.config["IMAGE_STORE"],
                "ALPR_DOCUMENT_STORE": app.config["DOCUMENT_STORE"],
                "ALPR_RELEASE_STORE": app.config["RELEASE_STORE"],
            }
            outcome["worker"] = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "rq.cli",
                    "worker",
                    "--burst",
                    "--url",
                    redis_url,
                    f"{prefix}exports",
                    f"{prefix}default",
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
            )
            worker_done.set()

        threading.Thread(target=run_worker, daemon=True).start()
        expect(review.get_by_test_id("package-reads")).to_have_text("3 reads", timeout=120_000)
        assert worker_done.wait(60) and outcome["worker"].returncode == 0
        expect(review.get_by_test_id("request-state")).to_have_text("Fulfilled")
        review.screenshot(path="/tmp/shots/agency_request_review.png", full_page=True)
        reviewer.close()

        # --- the agency downloads the package from its portal
        page.goto(request_url)
        expect(page.get_by_test_id("request-state")).to_have_text("Fulfilled")
        with page.expect_download() as waiting:
            page.get_by_test_id("download").click()
        saved = tmp_path / "package.zip"
        waiting.value.save_as(saved)
        page.screenshot(path="/tmp/shots/agency_request_portal.png", full_page=True)
        with zipfile.ZipFile(saved) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            assert manifest["read_count"] == 3
            for entry in manifest["files"]:
                data = archive.read(entry["name"])
                assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        page.reload()
        expect(page.get_by_test_id("request-timeline")).to_contain_text(
            "Release package downloaded (3 reads)"
        )
        agency.close()

        # --- the same pages fit a phone
        phone = browser.new_context(viewport=PHONE)
        small = phone.new_page()
        sign_in(small, base, requester.email)
        small.goto(request_url)
        no_sideways_scroll(small)
        small.screenshot(path="/tmp/shots/agency_request_portal_phone.png", full_page=True)
        small.goto(f"{base}/portal/requests/new")
        no_sideways_scroll(small)
        phone.close()
