"""The agency portal, the request form, the approval queue and review page, agencies and
invitations (425.7), through the pages.

Every portal route is tried with another agency's ids: 404 and nothing changes. A wrong field
loses nothing typed, the uploaded letter included; a form sent twice is one request.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.audit.actions import AuditAction
from app.auth.models import Role, User
from app.core.timeutil import display_zone
from app.db import utcnow
from app.requests.models import AgencyInvitation, AgencyRequest
from tests.factories import (
    AgencyFactory,
    AgencyProfileFactory,
    AgencyRequestFactory,
    ReadFactory,
    UserFactory,
)
from tests.helpers import (
    CONFIRMED,
    actions,
    count_rows,
    entry_details,
    field_error,
    form_csrf,
    login,
    signed_letter,
    stored_documents,
    when_run,
)

FINDING = "A witness saw this plate leave the burglary; its reads show where it went next."


def reload(session, request: AgencyRequest) -> AgencyRequest:
    session.rollback()  # see what requests committed
    return session.get(AgencyRequest, request.id, populate_existing=True)


def local(moment) -> str:
    return moment.astimezone(display_zone()).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def agency_user(session, client) -> User:
    profile = AgencyProfileFactory()
    user = UserFactory(roles=[Role.AGENCY], agency=profile.agency, trained=False)
    assert login(client, user.email).status_code == 302
    return user


def _form(client, **overrides) -> MultiDict:
    data = {
        "csrf_token": form_csrf(client, "/portal/requests/new"),
        "requester_name": "Det. Rae Quester",
        "purpose": "Locate the getaway vehicle",
        "factual_basis": "A witness saw the plate at the burglary.",
        "case_number": "RPD-25-000123",
        "authorised_by": "head",
        "window_start": local(utcnow() - timedelta(days=3)),
        "window_end": local(utcnow() - timedelta(hours=1)),
        "plates": "ABC 123\nXY*",
        "submission_key": "key-1",
    }
    data.update(overrides)
    return MultiDict({k: v for k, v in data.items() if v is not None})


def _post(client, data: MultiDict, letter: bytes | None = None, name: str = "letter.pdf"):
    if letter is not None:
        data.add("letter", (io.BytesIO(letter), name))
    return client.post("/portal/requests/new", data=data, content_type="multipart/form-data")


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', html)
    assert match, f"no hidden {name}"
    return match.group(1)


# --- the request form ---------------------------------------------------------------------


def test_an_agency_user_submits_a_request_with_its_letter(client, session, agency_user):
    response = _post(client, _form(client), signed_letter())
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    (request,) = session.scalars(select(AgencyRequest)).all()
    assert response.headers["Location"].endswith(f"/portal/requests/{request.id}")
    assert request.agency_id == agency_user.agency_id
    page = client.get(f"/portal/requests/{request.id}").get_data(as_text=True)
    assert "RPD-25-000123" in page and "Submitted" in page
    assert "Withdraw request" in page


def test_a_wrong_field_loses_nothing_typed_nor_the_letter(app, client, session, agency_user):
    too_old = local(utcnow() - timedelta(days=75))
    response = _post(client, _form(client, window_start=too_old), signed_letter(), "chief.pdf")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "60 days at most" in field_error(html, "window_start")
    assert "Locate the getaway vehicle" in html and "ABC 123" in html
    assert "Letter kept: chief.pdf" in html
    token = _hidden(html, "letter_token")
    assert count_rows(session, AgencyRequest) == 0
    assert [p.parent.name for p in stored_documents(app)] == ["staged"]

    fixed = _form(client, letter_token=token, letter_name="chief.pdf")
    response = _post(client, fixed)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert count_rows(session, AgencyRequest) == 1
    assert [p.parent.name for p in stored_documents(app)] != ["staged"]
    assert all(p.parent.name != "staged" for p in stored_documents(app))


def test_another_users_staged_letter_cannot_be_claimed(app, client, session, agency_user):
    response = _post(client, _form(client, purpose=""), signed_letter())
    token = _hidden(response.get_data(as_text=True), "letter_token")
    other = UserFactory(roles=[Role.AGENCY], agency=agency_user.agency)
    client = app.test_client()
    login(client, other.email)
    response = _post(client, _form(client, letter_token=token, letter_name="x.pdf"))
    assert response.status_code == 422
    assert "Upload the signed letter" in field_error(response.get_data(as_text=True), "letter")


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"Please send the data. Signed, the chief.", "letter.pdf", "must be a PDF, PNG or JPEG"),
        (signed_letter("PNG")[:300], "letter.png", "not a readable picture"),
        (None, None, "Upload the signed letter"),
    ],
)
def test_a_fake_unreadable_or_missing_letter_is_refused_at_its_field(
    app, client, session, agency_user, content, name, message
):
    response = _post(client, _form(client), content, name or "x")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in field_error(html, "letter")
    assert "Locate the getaway vehicle" in html
    assert count_rows(session, AgencyRequest) == 0
    assert stored_documents(app) == []


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"purpose": "   "}, "purpose", "is required"),
        ({"case_number": ""}, "case_number", "is required"),
        ({"authorised_by": ""}, "authorised_by", "head or their designee"),
        ({"authorised_by": "mayor"}, "authorised_by", "Not a valid choice"),
        ({"plates": ""}, "plates", "a window alone"),
        ({"window_end": lambda: local(utcnow() + timedelta(days=2))}, "window_end", "future"),
        ({"window_start": "not a time"}, "window_start", "such as 2026-03-01 08:00"),
        ({"window_start": "9999-12-31T23:59"}, "window_start", "Enter a year"),
        (
            {"min_lat": "1e400", "max_lat": "45", "min_lon": "-92", "max_lon": "-91"},
            "min_lat",
            "ordinary number",
        ),
        (
            {"min_lat": "91", "max_lat": "92", "min_lon": "-92", "max_lon": "-91"},
            "min_lat",
            "±90",
        ),
        ({"device_ids": str(2**70)}, "device_ids", "not a valid choice"),
        ({"factual_basis": "basis\x00"}, "factual_basis", "NUL"),
    ],
)
def test_a_bad_field_is_a_422_at_its_field_with_nothing_saved(
    client, session, agency_user, overrides, field, message
):
    response = _post(client, _form(client, **when_run(overrides)), signed_letter())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in (field_error(html, field) or ""), html[:3000]
    assert count_rows(session, AgencyRequest) == 0


def test_the_form_sent_twice_is_one_request(client, session, agency_user):
    data = _form(client)
    assert _post(client, data.copy(), signed_letter()).status_code == 302
    assert _post(client, data.copy(), signed_letter()).status_code == 302
    assert count_rows(session, AgencyRequest) == 1
    assert len(entry_details(session, AuditAction.AGENCY_REQUEST_SUBMITTED)) == 1


# --- agency isolation: every portal route, another agency's ids ----------------------------


def _portal_id_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/portal/") and "<int:" in rule.rule:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((rule.rule, method))
    return routes


def test_every_portal_route_answers_404_for_another_agencys_request(app, client, session):
    theirs = AgencyRequestFactory(status="needs_information", question="Which car?")
    ours = AgencyRequestFactory()
    me = ours.submitted_by
    assert me.agency_id != theirs.agency_id
    login(client, me.email)
    token = form_csrf(client, f"/portal/requests/{ours.id}")
    routes = _portal_id_routes(app)
    assert len(routes) >= 3
    before = actions(session)
    for rule, method in routes:
        path = re.sub(r"<int:\w+>", str(theirs.id), rule)
        data = {"csrf_token": token, "answer": "mine", **CONFIRMED} if method == "POST" else None
        response = client.open(path, method=method, data=data)
        assert response.status_code == 404, (method, path, response.status_code)
    assert actions(session) == before
    assert reload(session, theirs).status == "needs_information"
    assert "Which car?" not in client.get("/portal").get_data(as_text=True)
    assert f"#{theirs.id}<" not in client.get("/portal").get_data(as_text=True)


def test_agency_users_reach_no_staff_page_and_staff_no_portal(app, client, session):
    request = AgencyRequestFactory()
    login(client, request.submitted_by.email)
    for path in (
        "/requests",
        f"/requests/{request.id}",
        f"/requests/{request.id}/letter",
        "/requests/agencies",
    ):
        assert client.get(path).status_code == 403, path
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    client = app.test_client()
    login(client, chief.email)
    assert client.get("/portal").status_code == 403
    assert client.get(f"/portal/requests/{request.id}").status_code == 403


def test_the_agency_answers_and_withdraws_its_own_request(client, session):
    request = AgencyRequestFactory(status="needs_information", question="Which night?")
    login(client, request.submitted_by.email)
    page = f"/portal/requests/{request.id}"
    assert "Which night?" in client.get(page).get_data(as_text=True)
    token = form_csrf(client, page)
    blank = client.post(f"{page}/answer", data={"csrf_token": token, "answer": "  "})
    assert blank.status_code == 422
    assert "Write the answer" in field_error(blank.get_data(as_text=True), "answer")
    response = client.post(f"{page}/answer", data={"csrf_token": token, "answer": "3 March."})
    assert response.status_code == 302
    response = client.post(f"{page}/withdraw", data={"csrf_token": token})
    assert response.status_code == 422  # the "cannot be undone" box
    response = client.post(f"{page}/withdraw", data={"csrf_token": token, **CONFIRMED})
    assert response.status_code == 302
    assert reload(session, request).status == "withdrawn"


# --- the approval queue and the review page -----------------------------------------------


def test_the_queue_filters_by_state_agency_and_age_and_refreshes_itself(client, login_as):
    old = AgencyRequestFactory(submitted_at=utcnow() - timedelta(days=9))
    new = AgencyRequestFactory()
    decided = AgencyRequestFactory(status="denied", decision_reason="no")
    login_as(Role.DEPUTY_CHIEF)

    def shown(query: str = "", **headers) -> set[int]:
        html = client.get(f"/requests{query}", headers=headers).get_data(as_text=True)
        return {int(n) for n in re.findall(r'href="/requests/(\d+)"', html)}

    assert shown() == {old.id, new.id}
    assert shown("?state=all") == {old.id, new.id, decided.id}
    assert shown("?state=denied") == {decided.id}
    assert shown(f"?agency={new.agency_id}") == {new.id}
    assert shown("?older_than=7") == {old.id}
    assert shown("?older_than=-5&state=bogus&agency=99999999999999999999") == {old.id, new.id}
    partial = client.get("/requests", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert partial.startswith('<div id="queue-live"') and 'hx-trigger="every 10s"' in partial
    assert "9 d" in partial


def test_the_review_page_counts_the_reads_now_and_audits_it(client, session, login_as):
    request = AgencyRequestFactory(plate_list=("ABC123",))
    ReadFactory(plate="ABC123", captured_at=utcnow() - timedelta(hours=5))
    ReadFactory(plate="ABC123", captured_at=utcnow() - timedelta(hours=6))
    ReadFactory(plate="ZZZ999", captured_at=utcnow() - timedelta(hours=6))
    login_as(Role.DEPUTY_CHIEF)
    html = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert re.search(r"matches <strong>2</strong> reads", html)
    assert "Start review" in html and "signed letter" in html
    (entry,) = entry_details(session, AuditAction.AGENCY_REQUEST_REVIEWED)
    assert entry == {"read_count": 2}


def test_approval_without_a_finding_is_refused_at_its_field_and_changes_nothing(
    client, session, login_as
):
    request = AgencyRequestFactory(status="under_review")
    login_as(Role.DEPUTY_CHIEF)
    page = f"/requests/{request.id}"
    token = form_csrf(client, page)
    data = {"csrf_token": token, "active_investigation": "RPD case 1", **CONFIRMED}
    response = client.post(f"{page}/approve", data={**data, "finding": ""})
    assert response.status_code == 422
    assert "reasonable suspicion" in field_error(response.get_data(as_text=True), "finding")
    assert reload(session, request).status == "under_review"
    assert entry_details(session, AuditAction.AGENCY_REQUEST_APPROVED) == []
    response = client.post(f"{page}/approve", data={**data, "finding": FINDING})
    assert response.status_code == 302
    assert reload(session, request).finding == FINDING


def test_only_the_deputy_chief_or_designee_decide(client, session, login_as):
    request = AgencyRequestFactory(status="under_review")
    login_as(Role.ADMIN, Role.RECORDS)
    token = form_csrf(client, f"/requests/{request.id}")
    data = {"csrf_token": token, "finding": FINDING, "active_investigation": "X", **CONFIRMED}
    assert client.post(f"/requests/{request.id}/approve", data=data).status_code == 403
    refer = {
        "csrf_token": token,
        "refer-csrf_token": token,
        "refer-reason": "civil",
        "refer-confirm_irreversible": "y",
    }
    assert client.post(f"/requests/{request.id}/refer", data=refer).status_code == 302
    assert reload(session, request).status == "referred_to_records"


def test_the_home_page_shows_new_requests_to_the_deputy_chief(client, login_as):
    AgencyRequestFactory()
    AgencyRequestFactory()
    login_as(Role.DEPUTY_CHIEF)
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'data-testid="requests-waiting">2 new requests waiting', html)


# --- agencies and invitations -------------------------------------------------------------


def test_an_admin_records_an_agency_and_invites_its_user_who_signs_in(client, session, login_as):
    agency = AgencyFactory(name="Rochester Police Department")
    login_as(Role.ADMIN)
    page = f"/requests/agencies/{agency.id}"
    token = form_csrf(client, page)
    bad = client.post(f"{page}/profile", data={"csrf_token": token, "kind": "", "head_name": "X"})
    assert bad.status_code == 422
    assert field_error(bad.get_data(as_text=True), "kind")
    response = client.post(
        f"{page}/profile",
        data={"csrf_token": token, "kind": "law_enforcement", "head_name": "Chief Roe"},
    )
    assert response.status_code == 302
    response = client.post(
        f"{page}/invite", data={"csrf_token": token, "name": "Det. Q", "email": "q@rpd.example.com"}
    )
    html = response.get_data(as_text=True)
    link = re.search(r'data-testid="invitation-link">([^<]+)<', html).group(1)
    again = client.post(
        f"{page}/invite", data={"csrf_token": token, "name": "Det. Q", "email": "Q@rpd.example.com"}
    )
    assert again.status_code == 422 and "already exists" in field_error(
        again.get_data(as_text=True), "email"
    )
    client.post("/logout", data={"csrf_token": form_csrf(client, "/")})

    path = link.split("localhost", 1)[-1]
    form = client.get(path)
    assert form.status_code == 200 and "Welcome, Det. Q" in form.get_data(as_text=True)
    token = form_csrf(client, path)
    differ = client.post(
        path, data={"csrf_token": token, "password": "a" * 14, "password_again": "b" * 14}
    )
    assert differ.status_code == 422
    assert field_error(differ.get_data(as_text=True), "password_again")
    short = client.post(path, data={"csrf_token": token, "password": "x", "password_again": "x"})
    assert "12 characters" in field_error(short.get_data(as_text=True), "password")
    chosen = "rochester-detective-2026"
    done = client.post(
        path, data={"csrf_token": token, "password": chosen, "password_again": chosen}
    )
    assert done.status_code == 302
    assert client.get(path).status_code == 404  # the link works once
    assert login(client, "q@rpd.example.com", chosen).status_code == 302
    assert client.get("/portal").status_code == 200
    assert AuditAction.AGENCY_INVITATION_ACCEPTED.value in actions(session)


def test_an_expired_or_unknown_invitation_link_is_refused(client, session, login_as):
    agency = AgencyFactory()
    login_as(Role.DEPUTY_CHIEF)
    page = f"/requests/agencies/{agency.id}"
    token = form_csrf(client, page)
    html = client.post(
        f"{page}/invite", data={"csrf_token": token, "name": "A", "email": "a@agency.example.com"}
    ).get_data(as_text=True)
    link = re.search(r'data-testid="invitation-link">([^<]+)<', html).group(1)
    path = "/login/" + link.split("/login/", 1)[1]
    invitation = session.scalars(select(AgencyInvitation)).one()
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert client.get(path).status_code == 404
    assert client.get("/login/invitation/not-a-token").status_code == 404
    assert client.get("/login/invitation/" + "x" * 500).status_code == 404


def test_only_admins_and_the_deputy_chief_manage_agencies(client, login_as):
    agency = AgencyFactory()
    login_as(Role.DESIGNEE, Role.OPERATOR, Role.RECORDS, Role.AUDITOR)
    assert client.get("/requests/agencies").status_code == 403
    assert client.get(f"/requests/agencies/{agency.id}").status_code == 403


def test_the_demo_seed_records_the_demo_agency_and_submits_a_request(app, session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "Demo agency request 1 submitted" in first.output
    assert "Demo agency request already present" in runner.invoke(args=["demo", "seed"]).output
    session.rollback()
    (request,) = session.scalars(select(AgencyRequest)).all()
    assert request.case_number == "MSP-26-004417" and request.profile.head_name
    assert request.submitted_by.email == "agency@demo.alpr"
