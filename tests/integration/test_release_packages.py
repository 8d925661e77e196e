"""Release packages (425.7): built by a job, read back whole, downloaded only by the agency.

The manifest's hashes are checked by reading the ZIP back; ACP-protected and destroyed data are
absent; data shared by another agency is released like the department's own (425.5); the link
works for the requesting agency's users only and only until it expires, when a scheduled job
deletes the file. Building and each download are audited as dissemination with the read count.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.audit.actions import AuditAction
from app.auth.models import Role
from app.db import utcnow
from app.jobs.models import JobRun, JobStatus
from app.requests.letters import LetterRejected, inspect_letter
from app.requests.models import AgencyRequest, ReleasePackage
from app.requests.packages import PackageError, build_package, start_package
from tests.factories import (
    AgencyFactory,
    AgencyRequestFactory,
    DeviceFactory,
    ReadFactory,
    UserFactory,
)
from tests.helpers import (
    actions,
    add_image,
    aged_read,
    enter_acp_request,
    entry_details,
    form_csrf,
    login,
    pdf_text,
    run_purge,
    signed_letter,
)
from workers.releases import expire_release_packages

ROOT = Path(__file__).resolve().parents[2]
FINDING = "A witness saw this plate leave the burglary; its reads show where it went next."


def approved(**fields) -> AgencyRequest:
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True, name="Deputy Chief Dee")
    return AgencyRequestFactory(
        status="approved",
        finding=FINDING,
        active_investigation="Rochester PD case 25-000123",
        decided_by=chief,
        decided_at=utcnow(),
        **fields,
    )


def earlier() -> object:
    """A collection time inside the factory request's window (which ends a minute ago)."""
    return utcnow() - timedelta(hours=1)


def reload(session, model, ident):
    session.rollback()
    return session.get(model, ident, populate_existing=True)


def build_through_the_page(client, session, request: AgencyRequest) -> ReleasePackage:
    """The Deputy Chief presses "Build release package" (the job runs in-process here)."""
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    login(client, chief.email)
    page = f"/requests/{request.id}"
    response = client.post(f"{page}/packages", data={"csrf_token": form_csrf(client, page)})
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    session.rollback()
    return session.scalars(
        select(ReleasePackage).where(ReleasePackage.request_id == request.id)
    ).one()


def open_zip(app, package: ReleasePackage) -> zipfile.ZipFile:
    return zipfile.ZipFile(Path(app.config["RELEASE_STORE"]) / package.file_name)


def csv_rows(archive: zipfile.ZipFile) -> list[dict]:
    return list(csv.DictReader(io.TextIOWrapper(archive.open("reads.csv"), encoding="utf-8")))


@pytest.fixture
def scene(app, session):
    """An approved request for ABC123 and what the department holds of that plate."""
    device = DeviceFactory(serial="CAM-7")
    sharing = AgencyFactory(name="La Crosse Police Department")
    request = approved(plate_list=("ABC123", "HIDE42"))
    kept = [ReadFactory(plate="ABC123", captured_at=earlier(), device=device) for _ in range(3)]
    for read in kept:
        add_image(session, read, "plate", content=f"jpeg bytes of read {read.id}".encode())
    add_image(session, kept[0], "vehicle", content=b"the same picture twice")
    add_image(session, kept[1], "vehicle", content=b"the same picture twice")
    shared = ReadFactory(
        plate="ABC123", captured_at=earlier(), device=None, source_agency_id=sharing.id
    )
    deferred = ReadFactory(
        plate="ABC123", captured_at=earlier(), device=device, acp_deferred_at=utcnow()
    )
    add_image(session, deferred, "plate", content=b"picture of an ACP-deferred read")
    suppressed = ReadFactory(plate="HIDE42", captured_at=earlier(), device=device)
    enter_acp_request(session, "HIDE42")
    undecided = ReadFactory(
        plate="ABC123", captured_at=earlier(), device=device, plate_status="needs_review"
    )
    late = ReadFactory(
        plate="ABC123",
        captured_at=earlier(),
        device=device,
        received_at=utcnow() + timedelta(hours=1),
    )
    return {
        "request": request,
        "kept": [r.id for r in kept],
        "shared": shared.id,
        "absent": [deferred.id, suppressed.id, undecided.id, late.id],
    }


def test_a_package_holds_the_matching_reads_pictures_cover_letter_and_manifest(
    app, client, session, scene
):
    request = scene["request"]
    package = build_through_the_page(client, session, request)
    assert package.built_at is not None and package.read_count == 4
    with open_zip(app, package) as archive:
        names = set(archive.namelist())
        rows = csv_rows(archive)
        manifest = json.loads(archive.read("manifest.json"))
        cover = pdf_text(archive.read("cover-letter.pdf"))
        # the manifest's hashes, checked against the files read back from the ZIP
        listed = {f["name"]: f for f in manifest["files"]}
        assert set(listed) == names - {"manifest.json"}
        for name, entry in listed.items():
            data = archive.read(name)
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
            assert len(data) == entry["bytes"]
    assert {int(r["read_id"]) for r in rows} == {*scene["kept"], scene["shared"]}
    assert {r["source"] for r in rows} == {"CAM-7", "shared by La Crosse Police Department"}
    assert len([n for n in names if n.startswith("images/")]) == 4  # the shared picture once
    first = next(r for r in rows if int(r["read_id"]) == scene["kept"][0])
    assert len(first["images"].split(";")) == 2 and all(
        n in names for n in first["images"].split(";")
    )
    assert manifest["read_count"] == 4 and manifest["request"] == request.id
    assert "held when it was built" in manifest["statement"]
    text = cover
    for expected in (
        f"request {request.id}",
        "Deputy Chief Dee",
        "Rochester PD case 25-000123",
        "A witness saw this plate",
        "held when it was built",
    ):
        assert expected in " ".join(text.split()), expected
    digest = hashlib.sha256((Path(app.config["RELEASE_STORE"]) / package.file_name).read_bytes())
    assert digest.hexdigest() == package.sha256


def test_building_leaves_damaged_pictures_refused(app, client, session, scene):
    """WeasyPrint's import would make Pillow accept truncated pictures process-wide."""
    build_through_the_page(client, session, scene["request"])
    with pytest.raises(LetterRejected, match="not a readable picture"):
        inspect_letter(signed_letter("PNG")[:300], "letter.png")


def test_acp_destroyed_undecided_and_later_data_are_absent(app, client, session, scene):
    destroyed = aged_read(59.5, plate="ABC123")
    add_image(session, destroyed, "plate", content=b"picture of a read the purge destroys")
    request = scene["request"]
    request.window_start = utcnow() - timedelta(days=60)  # the destroyed read was in scope
    session.commit()
    run_purge(app)
    package = build_through_the_page(client, session, request)
    with open_zip(app, package) as archive:
        ids = {int(r["read_id"]) for r in csv_rows(archive)}
        plates = {r["plate"] for r in csv_rows(archive)}
        blob = b"".join(archive.read(n) for n in archive.namelist() if n.startswith("images/"))
    assert not ids & {*scene["absent"], destroyed.id}
    assert plates == {"ABC123"}
    assert b"ACP-deferred" not in blob and b"purge destroys" not in blob


def test_building_fulfils_the_request_and_is_audited_as_dissemination(app, client, session, scene):
    package = build_through_the_page(client, session, scene["request"])
    assert reload(session, AgencyRequest, scene["request"].id).status == "fulfilled"
    (built,) = entry_details(session, AuditAction.RELEASE_PACKAGE_BUILT)
    assert built["dissemination"] is True and built["read_count"] == 4
    assert built["sha256"] == package.sha256
    (fulfilled,) = entry_details(session, AuditAction.AGENCY_REQUEST_FULFILLED)
    assert (fulfilled["from"], fulfilled["to"]) == ("approved", "fulfilled")
    run = session.get(JobRun, package.job_run_id)
    assert run.status == JobStatus.DONE.value and run.progress == 100


def test_only_an_approved_request_is_built_and_only_by_who_may(client, session, login_as):
    pending = AgencyRequestFactory(status="under_review")
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    with pytest.raises(PackageError, match="Only an approved request"):
        start_package(session, chief, pending)
    records = UserFactory(roles=[Role.RECORDS], trained=True)
    with pytest.raises(PackageError, match="Only the Deputy Chief"):
        start_package(session, records, approved())
    login_as(Role.RECORDS, Role.AUDITOR)
    page = f"/requests/{pending.id}"
    assert (
        client.post(f"{page}/packages", data={"csrf_token": form_csrf(client, page)}).status_code
        == 403
    )


def test_a_build_pressed_twice_is_one_package(session):
    request = approved()
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    first, new = start_package(session, chief, request)
    second, again = start_package(session, chief, request)
    assert new and not again and first.id == second.id


def test_a_failed_build_leaves_no_file_and_no_change(app, session):
    request = approved()
    ReadFactory(plate="ABC123", captured_at=earlier())
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    package, _ = start_package(session, chief, request)
    session.commit()

    def broken_letter(_facts):
        raise RuntimeError("renderer down")

    with pytest.raises(RuntimeError):
        build_package(
            session,
            package,
            store=app.config["RELEASE_STORE"],
            link_days=7,
            cover_letter=broken_letter,
        )
    session.rollback()
    assert list(Path(app.config["RELEASE_STORE"]).iterdir()) == []
    assert reload(session, AgencyRequest, request.id).status == "approved"
    assert entry_details(session, AuditAction.RELEASE_PACKAGE_BUILT) == []


# --- the download link ------------------------------------------------------------------


def test_the_agency_downloads_its_package_and_each_download_is_audited(app, client, session, scene):
    package = build_through_the_page(client, session, scene["request"])
    agency_client = app.test_client()
    login(agency_client, scene["request"].submitted_by.email)
    page = agency_client.get(f"/portal/requests/{scene['request'].id}").get_data(as_text=True)
    assert f"/portal/packages/{package.id}/download" in page
    for _ in range(2):
        response = agency_client.get(f"/portal/packages/{package.id}/download")
        assert response.status_code == 200
        assert hashlib.sha256(response.data).hexdigest() == package.sha256
        response.close()
    downloads = entry_details(session, AuditAction.RELEASE_PACKAGE_DOWNLOADED)
    assert [d["read_count"] for d in downloads] == [4, 4]
    assert all(d["dissemination"] for d in downloads)


def test_another_agencys_user_cannot_see_or_download_the_package(app, client, session, scene):
    package = build_through_the_page(client, session, scene["request"])
    stranger = UserFactory(roles=[Role.AGENCY], agency=AgencyFactory())
    other = app.test_client()
    login(other, stranger.email)
    assert other.get(f"/portal/packages/{package.id}/download").status_code == 404
    assert other.get(f"/portal/requests/{scene['request'].id}").status_code == 404
    (refusal,) = entry_details(session, AuditAction.RELEASE_DOWNLOAD_REFUSED)
    assert refusal["reason"] == "another agency's package"
    assert entry_details(session, AuditAction.RELEASE_PACKAGE_DOWNLOADED) == []
    staff = app.test_client()
    login(staff, UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True).email)
    assert staff.get(f"/portal/packages/{package.id}/download").status_code == 403


def test_an_expired_link_is_refused_and_the_scheduled_job_deletes_the_file(
    app, client, session, scene
):
    package = build_through_the_page(client, session, scene["request"])
    path = Path(app.config["RELEASE_STORE"]) / package.file_name
    package.expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    agency_client = app.test_client()
    login(agency_client, scene["request"].submitted_by.email)
    response = agency_client.get(f"/portal/packages/{package.id}/download")
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert path.exists()
    with app.app_context():
        outcome = expire_release_packages()
    assert outcome["expired_files"] == 1
    assert not path.exists()
    assert reload(session, ReleasePackage, package.id).file_deleted_at is not None
    assert AuditAction.RELEASE_PACKAGE_EXPIRED.value in actions(session)
    with app.app_context():
        assert expire_release_packages()["expired_files"] == 0
    page = agency_client.get(f"/portal/requests/{scene['request'].id}").get_data(as_text=True)
    assert "expired" in page and 'data-testid="download"' not in page


def test_the_link_lives_as_long_as_configured(make_app, session):
    from app.config import ConfigurationError, load_settings

    assert make_app(RELEASE_LINK_DAYS=2).config["RELEASE_LINK_DAYS"] == 2
    os.environ["ALPR_RELEASE_LINK_DAYS"] = "0"
    try:
        with pytest.raises(ConfigurationError, match="at least 1"):
            load_settings(Path(make_app().config["INSTANCE_PATH"]))
    finally:
        del os.environ["ALPR_RELEASE_LINK_DAYS"]


# --- the job on a real RQ worker, its progress on the page ------------------------------


def test_the_build_runs_on_a_real_rq_worker_and_its_progress_is_polled(
    make_app, session, redis_url, instance_dir
):
    prefix = f"alpr-test-{uuid.uuid4().hex[:8]}-"
    app = make_app(REDIS_URL=redis_url, RQ_QUEUE_PREFIX=prefix)
    request = approved()
    ReadFactory(plate="ABC123", captured_at=earlier())
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    client = app.test_client()
    login(client, chief.email)
    page = f"/requests/{request.id}"
    assert (
        client.post(f"{page}/packages", data={"csrf_token": form_csrf(client, page)}).status_code
        == 302
    )
    session.rollback()
    package = session.scalars(select(ReleasePackage)).one()
    assert "Build release package" not in client.get(page).get_data(as_text=True)
    progress = f"{page}/packages/{package.id}/progress"
    waiting = client.get(progress, headers={"HX-Request": "true"})
    assert 'data-testid="package-progress"' in waiting.get_data(as_text=True)
    assert "HX-Refresh" not in waiting.headers
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": redis_url,
        "ALPR_INSTANCE_PATH": str(instance_dir),
        "ALPR_IMAGE_STORE": app.config["IMAGE_STORE"],
        "ALPR_DOCUMENT_STORE": app.config["DOCUMENT_STORE"],
        "ALPR_RELEASE_STORE": app.config["RELEASE_STORE"],
    }
    worker = subprocess.run(
        [
            sys.executable,
            "-m",
            "rq.cli",
            "worker",
            "--burst",
            "--url",
            redis_url,
            f"{prefix}exports",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    done = client.get(progress, headers={"HX-Request": "true"})
    assert done.headers.get("HX-Refresh") == "true"
    assert 'data-testid="package-reads">1 read<' in done.get_data(as_text=True)
    assert reload(session, AgencyRequest, request.id).status == "fulfilled"
