"""The public pages (§ 13.824, policy 425.5.1): reachable without a sign-in, leaking nothing.

A scenario plants a distinctive plate, an active case number, an ACP participant's plate and a
location marked security information, runs them through the real services (ingest, hotlists,
searches, ACP, deployments), then reads every public page and download and both formats of the
records staff's public copy of the audit trail: none of them may name any of it, while the
public copy still holds every entry with its public fields.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.alpr.devices import (
    create_deployment,
    create_device,
    end_deployment,
    mark_security_information,
)
from app.alpr.hotlists import load_hotlist
from app.alpr.search import SearchCriteria, SearchRules, perform_search
from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.auth.models import Role
from app.config import DEFAULT_WARRANT_NUMBER_PATTERN
from app.core.timeutil import local_today
from app.db import utcnow
from app.investigations.services import (
    close_investigation,
    open_investigation,
    reopen_investigation,
)
from app.public.classification import CLASSIFICATION
from app.public.trail import public_copy_csv
from app.reads.models import ActiveUsePeriod, Deployment, Read
from app.retention.acp.lifecycle import receive_acp_request, verify_acp_request
from tests.factories import UserFactory, api_read
from tests.helpers import PAPER_ORIGINAL, entry_details, form_csrf, login, post_json, run_purge

PLATE = "ZQX9981"
CASE = "26-918273"
ACP_PLATE = "KJW5523"
SECRET_PLACE = "Substation Gate Nine"
SECRET_LAT, SECRET_LNG = 44.0111, -91.7222
INVESTIGATIVE_LIST = "nightjar-list"
HOTLIST_REFERENCE = "NCIC-77X41"
PUBLIC_PLACE = "Main St at Third St"
SECRETS = (
    PLATE,
    CASE,
    ACP_PLATE,
    SECRET_PLACE,
    str(SECRET_LAT),
    str(SECRET_LNG),
    INVESTIGATIVE_LIST,
    HOTLIST_REFERENCE,
)
RULES = SearchRules(
    tracking_window_hours=24,
    tracking_lookback_days=7,
    warrant_pattern=DEFAULT_WARRANT_NUMBER_PATTERN,
    exigent_min_chars=40,
)
PUBLIC_PATHS = (
    "/public/",
    "/public/log",
    "/public/log.csv",
    "/public/log.json",
    "/public/locations",
    "/public/audit",
)


def _fixed_camera(session, chief):
    """A fixed camera at a public location after one withheld as security information."""
    device, token = create_device(session, chief, serial="POLE-7", kind="fixed")
    secret = create_deployment(
        session,
        chief,
        device,
        location_name=SECRET_PLACE,
        latitude=SECRET_LAT,
        longitude=SECRET_LNG,
        started_on=local_today() - timedelta(days=20),
    )
    mark_security_information(
        session, chief, secret, security_information=True, reason="Guards the power substation"
    )
    end_deployment(session, chief, secret, ended_on=local_today() - timedelta(days=10))
    create_deployment(
        session,
        chief,
        device,
        location_name=PUBLIC_PLACE,
        latitude=44.05,
        longitude=-91.64,
        started_on=local_today() - timedelta(days=9),
    )
    return device, token


def plant(client, session):
    """Everything that must stay out of the public view, through the real services."""
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], name="Dana Chief")
    operator = UserFactory(roles=[Role.OPERATOR], name="Olive Operator")
    open_investigation(
        session, chief, case_number=CASE, title="Burglary ring", opened_on=local_today()
    )
    load_hotlist(
        session,
        chief,
        f"plate,category,reference\n{PLATE},stolen_vehicle,{HOTLIST_REFERENCE}\n".encode(),
    )
    load_hotlist(
        session,
        chief,
        b"plate,category\nTRK4410,investigative\n",
        source_name=INVESTIGATIVE_LIST,
        case_number=CASE,
    )
    acp = receive_acp_request(
        session,
        chief,
        participant_number="ACP-1",
        plates=[ACP_PLATE],
        received_on=local_today(),
        paper_original=PAPER_ORIGINAL,
    )
    verify_acp_request(session, chief, acp)
    _, token = _fixed_camera(session, chief)
    session.commit()
    response = post_json(
        client,
        token,
        {"reads": [api_read(PLATE, 4), api_read("TRK4410", 3), api_read(ACP_PLATE, 2)]},
        url="/api/v1/reads",
    )
    assert response.status_code == 200, response.get_json()
    now = utcnow()
    for plate in (PLATE, ACP_PLATE):
        perform_search(
            session,
            operator,
            criteria=SearchCriteria(start=now - timedelta(hours=2), end=now, plate=plate),
            purpose_category="stolen_or_wanted_vehicle",
            purpose=f"Looking for {plate} seen near the gate",
            case_number=CASE,
            rules=RULES,
            now=now,
        )
    session.commit()
    return chief


def _texts(client) -> dict[str, str]:
    return {path: client.get(path).get_data(as_text=True) for path in PUBLIC_PATHS}


def assert_no_secret(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked on {where}"


def _records_copy(client, fmt: str):
    start = (local_today() - timedelta(days=30)).isoformat()
    end = local_today().isoformat()
    token = form_csrf(client, "/records/audit-copy")
    return client.post(
        "/records/audit-copy",
        data={"csrf_token": token, "start": start, "end": end, "format": fmt},
    )


def test_every_public_page_and_download_opens_without_a_sign_in(client, session):
    for path in PUBLIC_PATHS:
        response = client.get(path)
        assert response.status_code == 200, path
    assert client.get("/public/log.csv").mimetype == "text/csv"
    assert client.get("/public/log.json").get_json()["periods"] == []


def test_nothing_classified_appears_on_any_public_page_download_or_copy(client, session, make_app):
    plant(client, session)
    published = make_app(PUBLISH_AUDIT_TRAIL=True).test_client()
    pages = {**_texts(client), **{f"published {p}": t for p, t in _texts(published).items()}}
    for path, text in pages.items():
        assert_no_secret(path, text)
    log = client.get("/public/log.json").get_json()["periods"]
    assert sum(p["plates_read"] for p in log) == 3
    assert {"Minnesota license plate data file (BCA)", "active investigative data"} <= {
        name for p in log for name in p["databases_compared"]
    }
    assert sum(p["hits"]["stolen"] for p in log) == 1
    assert sum(p["hits"]["investigative"] for p in log) == 1
    locations = pages["/public/locations"]
    assert PUBLIC_PLACE in locations and 'data-testid="withheld-notice"' in locations
    assert "Olive Operator" in pages["published /public/audit"]

    total = session.scalar(select(func.count(AuditEntry.id)))
    UserFactory(roles=[Role.RECORDS], email="records@example.test")
    session.commit()
    login(client, "records@example.test")
    copy = _records_copy(client, "csv")
    assert copy.status_code == 200 and copy.mimetype == "text/csv"
    text = copy.get_data(as_text=True)
    assert_no_secret("the public copy (CSV)", text)
    rows = list(csv.DictReader(io.StringIO(text)))
    seqs = [r["seq"] for r in rows]
    assert seqs[: total + 1] == [str(n) for n in range(1, total + 2)]  # every entry, the sign-in
    # The copy's own entry: chained with it on SQLite, by the sequencer after its commit on
    # PostgreSQL (app/audit/services.py).
    assert seqs[total + 1] in {str(total + 2), "pending"}
    searches = [r for r in rows if r["action"] == AuditAction.SEARCH_PERFORMED.value]
    assert len(searches) == 2
    for row in searches:
        assert row["employee"] == "Olive Operator"
        assert row["purpose_category"] == "stolen_or_wanted_vehicle"
        details = json.loads(row["details"])
        assert details["result_count"] == 1 or details["result_count"] == 0
        assert details["criteria"] == "[withheld: Minn. Stat. § 13.824 subd. 2]"
        assert details["case_number"] == "[withheld: Minn. Stat. § 13.82 subd. 7]"
        assert "criteria: Minn. Stat. § 13.824 subd. 2" in row["withheld"]
    ingest = next(r for r in rows if r["action"] == AuditAction.READS_INGESTED.value)
    assert ingest["device"] == "POLE-7" and json.loads(ingest["details"])["stored"] == 2

    pdf = _records_copy(client, "pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    pdf_text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf.data, capture_output=True, check=True
    ).stdout.decode()
    assert_no_secret("the public copy (PDF)", pdf_text)
    assert "Olive Operator" in pdf_text and "search.performed" in pdf_text
    released = entry_details(session, AuditAction.PUBLIC_AUDIT_COPY_RELEASED)
    assert [r["format"] for r in released] == ["csv", "pdf"]


def test_a_closed_case_number_is_public_and_a_reopened_one_is_not(client, session):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    case = open_investigation(
        session, chief, case_number=CASE, title="Burglary ring", opened_on=local_today()
    )
    close_investigation(session, chief, case, "Charged", closed_on=local_today())
    session.commit()
    assert CASE in "".join(public_copy_csv(session, local_today(), local_today()))
    reopen_investigation(session, chief, case, "New evidence")
    session.commit()
    assert CASE not in "".join(public_copy_csv(session, local_today(), local_today()))


def test_an_unclassified_detail_key_is_withheld(session):
    from app.audit.services import record

    record(session, "test", AuditAction.LOGOUT, None, {"sessions_ended": True, "shoe_size": 44})
    session.commit()
    row = next(
        csv.DictReader(io.StringIO("".join(public_copy_csv(session, local_today(), local_today()))))
    )
    details = json.loads(row["details"])
    assert details == {"sessions_ended": True, "shoe_size": "[withheld: not yet classified]"}


def test_every_audit_action_is_classified():
    assert set(CLASSIFICATION) == set(AuditAction)


def test_the_log_survives_the_purge_with_the_same_numbers(client, session, app):
    plant(client, session)
    before = client.get("/public/log.json").get_json()["periods"]
    assert session.scalar(select(func.count(Read.id))) > 0
    session.rollback()  # no snapshot of `reads` left open: the purge swaps day partitions out
    run_purge(app, now=utcnow() + timedelta(days=61))
    session.rollback()
    assert session.scalar(select(func.count(Read.id))) == 0
    assert session.scalar(select(func.count(ActiveUsePeriod.id))) == len(before)
    assert client.get("/public/log.json").get_json()["periods"] == before
    assert "Plates read per day" in client.get("/public/log").get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "field"),
    [("month=2026-13", "month"), ("month=%00", "month"), ("device=NOPE", "device")],
)
def test_a_bad_filter_is_shown_at_its_field(client, session, query, field):
    response = client.get(f"/public/log?{query}")
    assert response.status_code == 422
    assert f'id="{field}-err"' in response.get_data(as_text=True)
    assert client.get(f"/public/log.csv?{query}").status_code == 422


@pytest.mark.parametrize("page", ["2", "0", "x", str(2**63)])
def test_a_page_outside_the_log_is_not_found(client, session, page):
    assert client.get(f"/public/log?page={page}").status_code == 404


def test_the_public_copy_is_for_records_staff_and_checks_its_period(client, session, login_as):
    assert client.get("/records/audit-copy").status_code == 302
    login_as(Role.OPERATOR)
    assert client.get("/records/audit-copy").status_code == 403
    client.post("/logout", data={"csrf_token": form_csrf(client, "/")})
    login_as(Role.RECORDS, trained=False)
    token = form_csrf(client, "/records/audit-copy")
    backwards = client.post(
        "/records/audit-copy",
        data={"csrf_token": token, "start": "2026-11-02", "end": "2026-11-01", "format": "csv"},
    )
    assert backwards.status_code == 422
    assert "before the first" in backwards.get_data(as_text=True)
    assert entry_details(session, AuditAction.PUBLIC_AUDIT_COPY_RELEASED) == []


def test_marking_security_information_needs_a_reason_and_records_who(
    app, client, session, login_as
):
    chief = login_as(Role.DEPUTY_CHIEF)
    device, _ = create_device(session, "test", serial="POLE-9", kind="fixed")
    deployment = create_deployment(
        session,
        "test",
        device,
        location_name="Elm St",
        latitude=44.0,
        longitude=-91.6,
        started_on=local_today(),
    )
    session.commit()
    url = f"/alpr/deployments/{deployment.id}/security/on"
    token = form_csrf(client, f"/alpr/devices/{device.id}")
    refused = client.post(url, data={"csrf_token": token, "reason": "   "})
    assert refused.status_code == 422
    assert f'id="security-reason-{deployment.id}-err"' in refused.get_data(as_text=True)
    marked = client.post(url, data={"csrf_token": token, "reason": "Protects the water plant"})
    assert marked.status_code == 302, marked.get_data(as_text=True)[-3000:]
    session.rollback()
    deployment = session.get(Deployment, deployment.id, populate_existing=True)
    assert deployment.security_information is True
    assert deployment.security_decided_by_id == chief.id
    assert deployment.security_reason == "Protects the water plant"
    assert deployment.security_decided_at is not None
    decision = entry_details(session, AuditAction.DEPLOYMENT_UPDATED)[-1]
    assert decision["security_reason"] == "Protects the water plant"
    assert "Elm St" not in app.test_client().get("/public/locations").get_data(as_text=True)


def test_the_map_uses_only_the_configured_tile_server(make_app, session):
    plain = make_app().test_client().get("/public/locations")
    assert "leaflet" not in plain.get_data(as_text=True)
    tiles = make_app(MAP_TILE_URL="https://tiles.winona.example/{z}/{x}/{y}.png")
    page = tiles.test_client().get("/public/locations")
    assert "vendor/leaflet/leaflet.js" in page.get_data(as_text=True)
    assert (
        "img-src 'self' data: https://tiles.winona.example;"
        in page.headers["Content-Security-Policy"]
    )
    assert tiles.test_client().get("/static/vendor/leaflet/leaflet.js").status_code == 200
