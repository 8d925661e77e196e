"""No dead ends (issue 15, item 4): lists of ACP and exculpatory requests, the scans and steps of
a request, a case page that lists what names the case, and a favicon."""

from __future__ import annotations

import hashlib

import pytest

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import Role
from app.core.storage import content_path
from app.retention.models import AcpStatus
from tests.factories import (
    AcpRequestFactory,
    AgencyRequestFactory,
    ExculpatoryRequestFactory,
    HitFactory,
    HoldFactory,
    HotlistSourceFactory,
    InvestigationFactory,
    ReadFactory,
    SearchFactory,
    StoredDocumentFactory,
    UserFactory,
)
from tests.helpers import entries


def test_the_favicon_answers_and_every_page_links_it(client, session, login_as):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype in {
        "image/vnd.microsoft.icon",
        "image/x-icon",
    }
    assert client.get("/static/favicon.svg").status_code == 200
    assert 'rel="icon"' in client.get("/login").get_data(as_text=True)


def test_records_staff_list_acp_requests_by_status_and_page(client, session, login_as):
    verified = AcpRequestFactory(participant_number="ACP-VERIFIED", status=AcpStatus.VERIFIED.value)
    for _ in range(50):
        AcpRequestFactory()
    login_as(Role.RECORDS)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/retention/acp"' in home and 'href="/retention/exculpatory"' in home  # nav
    first = client.get("/retention/acp").get_data(as_text=True)
    assert "51 ACP requests · page 1 of 2" in first
    assert client.get("/retention/acp?page=2").get_data(as_text=True).count("ACP request ") >= 1
    only = client.get("/retention/acp?status=verified").get_data(as_text=True)
    assert "1 ACP request (verified) · page 1 of 1" in only and "ACP-VERIFIED" in only
    assert f'href="/retention/acp/{verified.id}"' in only
    for query in ("status=nonsense", "page=99999999999999999999999", "page=-1", "status=%00"):
        assert client.get(f"/retention/acp?{query}").status_code == 200, query


def test_exculpatory_list_for_the_deputy_chief(client, session, login_as):
    ExculpatoryRequestFactory(requester_name="Sam Subject")
    login_as(Role.DEPUTY_CHIEF)
    page = client.get("/retention/exculpatory").get_data(as_text=True)
    assert "Sam Subject" in page and "1 exculpatory request · page 1 of 1" in page


@pytest.mark.parametrize("path", ["/retention/exculpatory", "/retention/acp"])
def test_operators_do_not_see_the_request_lists(client, session, login_as, path):
    login_as(Role.OPERATOR)
    assert client.get(path).status_code == 403


def _stored_scan(app, body: bytes = b"%PDF-1.4 scan of a written request"):
    digest = hashlib.sha256(body).hexdigest()
    path = content_path(app.config["DOCUMENT_STORE"], digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return StoredDocumentFactory(sha256=digest, byte_size=len(body), original_name="request.pdf")


def test_a_request_page_shows_its_scan_and_who_took_each_step(app, client, session, login_as):
    scan = _stored_scan(app)
    request_ = ExculpatoryRequestFactory(document_sha256=scan.sha256)
    taker = UserFactory(name="Rita Records", roles=[Role.RECORDS])
    record(session, taker, AuditAction.EXCULPATORY_RECEIVED, request_, {"received_on": "x"})
    session.commit()
    login_as(Role.DEPUTY_CHIEF)
    page = client.get(f"/retention/exculpatory/{request_.id}").get_data(as_text=True)
    assert f'href="/retention/exculpatory/{request_.id}/document"' in page
    timeline = page.split('data-testid="exculpatory-history"', 1)[1].split("</ol>", 1)[0]
    assert "Received · Rita Records" in timeline, timeline  # when, the step, who
    document = client.get(f"/retention/exculpatory/{request_.id}/document")
    assert document.status_code == 200 and document.data.startswith(b"%PDF")
    assert entries(session, AuditAction.RETENTION_VIEWED)[-1].subject_id == str(request_.id)


@pytest.mark.parametrize(("role", "allowed"), [(Role.RECORDS, True), (Role.ADMIN, False)])
def test_an_acp_scan_opens_to_records_staff_not_administrators(
    app, client, session, login_as, role, allowed
):
    request_ = AcpRequestFactory(document_sha256=_stored_scan(app).sha256)
    login_as(role)
    page = client.get(f"/retention/acp/{request_.id}").get_data(as_text=True)
    assert (f'href="/retention/acp/{request_.id}/document"' in page) is allowed
    expected = 200 if allowed else 403
    assert client.get(f"/retention/acp/{request_.id}/document").status_code == expected


def test_a_scan_missing_is_not_found(client, session, login_as):
    request_ = AcpRequestFactory()
    login_as(Role.RECORDS)
    assert client.get(f"/retention/acp/{request_.id}/document").status_code == 404
    assert client.get("/retention/acp/9223372036854775807/document").status_code == 404


def test_a_case_page_lists_its_holds_searches_hits_and_requests(client, session, login_as):
    case = InvestigationFactory(case_number="25-CASE-01")
    hold = HoldFactory(investigation=case, held_plates=["HELD001"])
    viewer = login_as(Role.DEPUTY_CHIEF)
    own = SearchFactory(user=viewer, case_number="25-CASE-01", purpose="Burglary follow-up")
    other = SearchFactory(investigation_id=case.id, purpose="Canvass")
    hit = HitFactory(
        source=HotlistSourceFactory(kind="investigation", investigation_id=case.id),
        read=ReadFactory(plate="CASEHIT1"),
    )
    agency_request = AgencyRequestFactory(active_investigation="25-CASE-01")
    exculpatory = ExculpatoryRequestFactory(case_file_number="25-CASE-01")
    AgencyRequestFactory(active_investigation="25-OTHER-99")  # another case's
    page = client.get(f"/investigations/{case.id}").get_data(as_text=True)
    assert f"Hold {hold.id}" in page and "HELD001" in page
    assert f'href="/alpr/searches/{own.id}"' in page and "Burglary follow-up" in page
    assert f"Search {other.id}" in page and f'href="/alpr/searches/{other.id}"' not in page
    assert f"Hit {hit.id}" in page
    assert f'href="/requests/{agency_request.id}"' in page
    assert f'href="/retention/exculpatory/{exculpatory.id}"' in page
    assert page.count('data-testid="case-') == 5


def test_a_case_page_shows_hit_plates_only_to_those_who_work_hits(client, session, login_as):
    case = InvestigationFactory()
    hit = HitFactory(
        source=HotlistSourceFactory(kind="investigation", investigation_id=case.id),
        read=ReadFactory(plate="QUIET01"),
    )
    login_as(Role.RECORDS)  # sees cases, does not work hits
    html = client.get(f"/investigations/{case.id}").get_data(as_text=True)
    assert f"Hit {hit.id}" in html and "QUIET01" not in html
