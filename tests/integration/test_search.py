"""Purpose-bound search (425.6(b)) and the tracking guard (425.4.1(c))."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import MetaData, String, func, select

from app.alpr import search as search_module
from app.alpr.search import (
    PROTECTED_REASON,
    SearchCriteria,
    SearchError,
    SearchRefused,
    SearchRules,
    build_criteria,
    parse_plate_query,
    perform_search,
)
from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.audit.services import verify
from app.auth.models import Role
from app.config import DEFAULT_WARRANT_NUMBER_PATTERN
from app.core.timeutil import local_today
from app.db import utcnow
from app.reads.models import Search
from app.reports.compliance import acp_plates_stored
from app.retention.acp.digests import plate_hmac
from app.retention.acp.lifecycle import (
    destroy_existing_acp_data,
    receive_acp_request,
    verify_acp_request,
)
from app.retention.models import AcpRequest
from tests.factories import (
    AgencyFactory,
    DeploymentFactory,
    DeviceFactory,
    InvestigationFactory,
    ReadFactory,
    UserFactory,
)
from tests.helpers import PAPER_ORIGINAL, entries, entry_details, form_csrf

CHICAGO = ZoneInfo("America/Chicago")


RULES = SearchRules(
    tracking_window_hours=24,
    tracking_lookback_days=7,
    warrant_pattern=DEFAULT_WARRANT_NUMBER_PATTERN,
    exigent_min_chars=40,
)


def local(moment) -> str:
    """The datetime-local text a browser sends for `moment`."""
    return moment.astimezone(CHICAGO).strftime("%Y-%m-%dT%H:%M")


def searches(session) -> list[Search]:
    session.rollback()
    return list(session.scalars(select(Search).order_by(Search.id)))


def post(client, path="/alpr/search", hours=24, **fields):
    end = utcnow() + timedelta(minutes=1)  # as the form's default: the next whole minute
    data = {
        "csrf_token": form_csrf(client, path),
        "purpose_category": "stolen_or_wanted_vehicle",
        "purpose": "Stolen vehicle investigation",
        "case_number": "24-000100",
        "start": local(end - timedelta(hours=hours)),
        "end": local(end),
        "device_id": "0",
        "deployment_id": "0",
    }
    data.update({k: v for k, v in fields.items() if v is not None})
    for key in [k for k, v in fields.items() if v is None]:
        data.pop(key, None)
    return client.post(path, data=data)


@pytest.fixture
def operator(login_as):
    return login_as(Role.OPERATOR)


# --- purpose and case number (425.6(b)) ------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"purpose": None}, "This field is required"),
        ({"purpose": "because"}, "at least 10"),
        ({"case_number": ""}, "This field is required"),
        ({"purpose": "Stolen \x00 vehicle report"}, "control characters"),
        ({"case_number": "24-\x0001"}, "control characters"),
        ({"exigent_statement": "Child abducted \x00 now, suspect vehicle leaving"}, "control"),
    ],
)
def test_purpose_and_case_number_are_required(client, session, operator, fields, message):
    ReadFactory(plate="ABC123")
    response = post(client, plate="ABC123", **fields)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert searches(session) == []
    assert entry_details(session, AuditAction.SEARCH_PERFORMED) == []


def test_the_service_refuses_without_purpose_or_case(session):
    user = UserFactory()
    now = utcnow()
    criteria = SearchCriteria(start=now - timedelta(hours=1), end=now, plate="ABC123")
    for purpose, case in (("", "24-1"), ("Stolen vehicle", " ")):
        with pytest.raises(SearchError):
            perform_search(
                session,
                user,
                criteria=criteria,
                purpose_category="stolen_or_wanted_vehicle",
                purpose=purpose,
                case_number=case,
                rules=RULES,
                now=now,
            )
    assert session.scalar(select(func.count(Search.id))) == 0


def test_a_search_is_stored_audited_and_shown_newest_first(client, session, operator):
    now = utcnow()
    older = ReadFactory(plate="ABC123", captured_at=now - timedelta(hours=5))
    newer = ReadFactory(plate="ABC123", captured_at=now - timedelta(hours=1))
    ReadFactory(plate="XYZ999", captured_at=now - timedelta(hours=1))
    ReadFactory(plate="ABC123", captured_at=now - timedelta(hours=30))  # outside the window
    response = post(client, plate="abc-123")
    assert response.status_code == 302
    [stored] = searches(session)
    assert (stored.purpose, stored.case_number, stored.result_count, stored.is_tracking) == (
        "Stolen vehicle investigation",
        "24-000100",
        2,
        False,
    )
    assert json.loads(stored.criteria_json)["plate"] == "ABC123"
    [performed] = entry_details(session, AuditAction.SEARCH_PERFORMED)
    assert performed["result_count"] == 2 and performed["purpose"] == "Stolen vehicle investigation"

    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    links = re.findall(rf'href="/alpr/reads/(\d+)\?via=search:{stored.id}"', html)
    assert links == [str(newer.id), str(older.id)]
    assert older.captured_at.astimezone(CHICAGO).strftime("%Y-%m-%d %H:%M:%S %Z") in html
    [viewed] = entry_details(session, AuditAction.SEARCH_PAGE_VIEWED)
    assert viewed == {
        "page": 1,
        "rows": 2,
        "result_count": 2,
        "read_ids": [newer.id, older.id],
    }


def test_partial_plates(client, session, operator):
    for plate in ("ABC123", "ABC777", "ZABC12"):
        ReadFactory(plate=plate)
    post(client, plate="ABC*")
    post(client, plate="*BC1*")
    assert [s.result_count for s in searches(session)] == [2, 2]
    assert parse_plate_query("a%c 1*") == "A%C1%"
    for bad in ("*", "A*", "AB!*"):
        with pytest.raises(SearchError):
            parse_plate_query(bad)


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("ABZ*", {"ABZ123", "ABZZ99"}),  # the range past Z stops before AC
        ("AB9*", {"AB9001"}),  # and past 9 before AB[A-Z]
        ("*Z99", {"ABZZ99"}),  # no prefix: the pattern alone
        ("AB*9", {"ABZZ99"}),
    ],
)
def test_a_partial_plate_finds_exactly_what_it_names(client, session, operator, typed, found):
    """The prefix is also searched as a byte range (app.alpr.search._prefix_range)."""
    for plate in ("ABZ123", "ABZZ99", "AC0001", "AB9001", "ABA100", "AAZ999"):
        ReadFactory(plate=plate)
    assert post(client, plate=typed).status_code == 302
    search = searches(session)[0]
    page = client.get(f"/alpr/searches/{search.id}").get_data(as_text=True)
    shown = {plate for plate in found if plate in page}
    assert search.result_count == len(found) and shown == found


def test_search_by_device_deployment_and_area(client, session, operator):
    deployment = DeploymentFactory(latitude=44.05, longitude=-91.64)
    near = ReadFactory(device=deployment.device, latitude=44.051, longitude=-91.641)
    ReadFactory(latitude=44.2, longitude=-91.9)  # another device, far away
    post(client, device_id=str(deployment.device.id))
    post(client, deployment_id=str(deployment.id))
    post(client, min_lat="44.0", max_lat="44.1", min_lon="-91.7", max_lon="-91.6")
    assert [s.result_count for s in searches(session)] == [1, 1, 1]
    by_deployment = searches(session)[1]
    page = client.get(f"/alpr/searches/{by_deployment.id}").get_data(as_text=True)
    assert f'href="/alpr/reads/{near.id}?via=search:{by_deployment.id}"' in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Narrow the search"),
        ({"plate": "ABC123", "hours": 24 * 61}, "at most 60 days"),
        ({"plate": "ABC123", "min_lat": "44"}, "all four edges"),
        ({"plate": "ABC123", "end": "9999-12-31T23:59"}, "Enter a year from 2000 to 2100"),
        ({"plate": "ABC123", "start": "0001-01-01T00:00"}, "Enter a year from 2000 to 2100"),
    ],
)
def test_unbounded_or_unfocused_searches_are_refused(client, session, operator, fields, message):
    response = post(client, **fields)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert searches(session) == []


def test_window_must_start_before_it_ends(session):
    now = utcnow()
    with pytest.raises(SearchError, match="start before"):
        build_criteria(
            session,
            start=now,
            end=now - timedelta(hours=1),
            now=now,
            max_window_days=60,
            plate="A1",
        )


def test_a_closed_case_cannot_justify_a_search(client, session, operator):
    InvestigationFactory(
        case_number="24-5", status="closed", closed_on=utcnow().date(), closing_reason="done"
    )
    response = post(client, plate="ABC123", case_number="24-5")
    assert response.status_code == 403 and "is closed" in response.get_data(as_text=True)
    assert searches(session) == []
    assert "closed" in entry_details(session, AuditAction.SEARCH_REFUSED)[0]["reason"]


def test_an_active_case_is_linked(client, session, operator):
    case = InvestigationFactory(case_number="24-6")
    post(client, plate="ABC123", case_number="24-6")
    assert searches(session)[0].investigation_id == case.id


# --- the tracking guard (425.4.1(c)) ---------------------------------------------------------


def test_single_plate_over_the_bound_is_refused_and_audited(client, session, operator):
    ReadFactory(plate="ABC123", captured_at=utcnow() - timedelta(hours=30))
    response = post(client, plate="ABC123", hours=48)
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert (
        "search warrant" in html and "425.4.1(c)" in html and 'data-testid="search-refusal"' in html
    )
    assert searches(session) == []
    [refused] = entry_details(session, AuditAction.SEARCH_REFUSED)
    assert refused["criteria"]["plate"] == "ABC123" and "more than 24 hours" in refused["tracking"]


@pytest.mark.parametrize(
    "authority",
    [
        {"warrant_number": "SW-2024-118"},
        {"exigent_statement": "Child abduction in progress (Amber alert)"},
    ],
)
def test_single_plate_over_the_bound_with_authority(client, session, operator, authority):
    ReadFactory(plate="ABC123", captured_at=utcnow() - timedelta(hours=30))
    assert post(client, plate="ABC123", hours=48, **authority).status_code == 302
    [stored] = searches(session)
    assert stored.is_tracking and stored.result_count == 1
    assert (stored.warrant_number, stored.exigent_statement) == (
        authority.get("warrant_number"),
        authority.get("exigent_statement"),
    )
    assert entry_details(session, AuditAction.SEARCH_PERFORMED)[0]["is_tracking"] is True


def test_the_bound_is_configurable(make_app, session):
    app = make_app(TRACKING_WINDOW_HOURS=72)
    client = app.test_client()
    user = UserFactory(roles=[Role.OPERATOR], trained=True)
    from tests.helpers import login

    login(client, user.email)
    assert post(client, plate="ABC123", hours=48).status_code == 302
    assert post(client, plate="ABC123", hours=96).status_code == 403


def test_partial_plate_matching_one_plate_is_tracking(client, session, operator):
    ReadFactory(plate="ABC123")
    assert post(client, plate="ABC12*", hours=48).status_code == 403
    ReadFactory(plate="ABC129")
    assert post(client, plate="ABC12*", hours=48).status_code == 302
    assert searches(session)[0].is_tracking is False


def test_within_the_bound_is_not_tracking(client, session, operator):
    assert post(client, plate="ABC123", hours=23).status_code == 302
    assert searches(session)[0].is_tracking is False


def test_plate_history_needs_a_warrant_or_exigency(client, session, operator):
    read = ReadFactory(plate="ABC123", captured_at=utcnow() - timedelta(days=20))
    path = "/alpr/plates/ABC123/history"
    form = client.get(path)
    assert form.status_code == 200 and "search warrant" in form.get_data(as_text=True)
    assert searches(session) == []  # showing the form reveals no data

    refused = post(client, path=path, hours=24 * 59)
    assert refused.status_code == 403 and "plate history" in refused.get_data(as_text=True)
    assert entry_details(session, AuditAction.SEARCH_REFUSED)[0]["tracking"].startswith(
        "a plate history"
    )

    short = post(client, path=path, hours=2)  # a history is tracking whatever its window
    assert short.status_code == 403

    allowed = post(client, path=path, hours=24 * 59, warrant_number="SW-9")
    assert allowed.status_code == 302
    [stored] = searches(session)
    assert stored.is_tracking and stored.warrant_number == "SW-9" and stored.result_count == 1
    assert f'href="/alpr/reads/{read.id}?via=search:{stored.id}"' in client.get(
        allowed.headers["Location"]
    ).get_data(as_text=True)


def test_plate_history_of_a_pattern_is_not_found(client, session, operator):
    assert client.get("/alpr/plates/AB*/history").status_code == 404


# --- pagination ----------------------------------------------------------------------------


def test_results_are_paged_by_fifty_and_each_page_is_audited(client, session, operator):
    device = DeviceFactory()
    now = utcnow()
    reads = [
        ReadFactory(device=device, plate="PAGE1", captured_at=now - timedelta(minutes=i + 1))
        for i in range(120)
    ]
    location = post(client, plate="PAGE1").headers["Location"]
    seen: list[str] = []
    for page in (1, 2, 3):
        html = client.get(f"{location}?page={page}").get_data(as_text=True)
        rows = re.findall(r'href="/alpr/reads/(\d+)\?via=search:\d+"', html)
        assert len(rows) == (50 if page < 3 else 20)
        assert f"page {page} of 3" in html
        seen += rows
    assert seen == [str(r.id) for r in reads]  # newest first, no overlap, nothing missed
    assert client.get(f"{location}?page=4").status_code == 404
    viewed = entry_details(session, AuditAction.SEARCH_PAGE_VIEWED)
    assert [(v["page"], v["rows"], v["result_count"]) for v in viewed] == [
        (1, 50, 120),
        (2, 50, 120),
        (3, 20, 120),
    ]
    assert [i for v in viewed for i in v["read_ids"]] == [int(i) for i in seen]


def test_counting_stops_at_the_cap(client, session, operator, monkeypatch):
    monkeypatch.setattr(search_module, "COUNT_CAP", 5)
    for _ in range(8):
        ReadFactory(plate="CAP1")
    location = post(client, plate="CAP1").headers["Location"]
    assert searches(session)[0].result_count == 5
    assert entry_details(session, AuditAction.SEARCH_PERFORMED)[0]["count_capped"] is True
    assert "5 or more" in client.get(location).get_data(as_text=True)


# --- who may search ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "trained"),
    [
        ((Role.OPERATOR,), False),
        ((Role.RECORDS,), True),
        ((Role.AUDITOR,), True),
        ((Role.AGENCY,), False),
    ],
)
def test_who_may_not_search(client, session, login_as, roles, trained):
    fields = {"agency": AgencyFactory()} if Role.AGENCY in roles else {}
    login_as(*roles, trained=trained, **fields)
    for path in ("/alpr/search", "/alpr/plates/ABC123/history"):
        assert client.get(path).status_code == 403
    token = form_csrf(client, "/")  # the session's token, from a page the role may see
    assert client.post("/alpr/search", data={"csrf_token": token}).status_code == 403
    assert searches(session) == []


def test_anonymous_is_sent_to_login(client, session):
    for path in ("/alpr/search", "/alpr/plates/ABC123/history", "/alpr/searches/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_only_the_searcher_pages_through_a_search(client, session, operator):
    other = UserFactory(roles=[Role.OPERATOR], trained=True)
    now = utcnow()
    theirs = Search(
        user_id=other.id,
        purpose="Their purpose here",
        case_number="24-9",
        criteria_json=SearchCriteria(start=now - timedelta(hours=1), end=now, plate="A1").to_json(),
    )
    session.add(theirs)
    session.commit()
    assert client.get(f"/alpr/searches/{theirs.id}").status_code == 403


def test_refusal_from_the_service_is_audited_in_the_callers_transaction(session):
    user = UserFactory()
    now = utcnow()
    criteria = SearchCriteria(start=now - timedelta(days=3), end=now, plate="ABC123")
    with pytest.raises(SearchRefused):
        perform_search(
            session,
            user,
            criteria=criteria,
            purpose_category="stolen_or_wanted_vehicle",
            purpose="Stolen vehicle",
            case_number="24-1",
            rules=RULES,
            now=now,
        )
    session.rollback()  # a caller that rolls back keeps nothing: the view commits refusals
    assert (
        session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "search.refused")
        )
        == 0
    )


# --- ACP participants' plates (425.5(b)): out of use, and never kept in clear -------------

EXIGENCY = (
    "Amber alert: a four-year-old was taken from daycare at 14:10 by a non-custodial parent "
    "driving this car toward the Wisconsin border"
)


def _protected(session, plate: str = "ABC123") -> AcpRequest:
    """A participant's request in force over `plate`, entered as records staff enter it."""
    request = receive_acp_request(
        session,
        UserFactory(roles=[Role.RECORDS]),
        participant_number="ACP-31",
        plates=[plate],
        received_on=local_today(),
        paper_original=PAPER_ORIGINAL,
    )
    session.commit()
    return request


def test_a_search_of_a_protected_plate_keeps_its_digest_and_request_never_the_plate(
    app, client, session, operator
):
    ReadFactory(plate="ABC123")  # collected before the request: out of use from its entry
    request = _protected(session)
    response = post(client, plate="abc-123", purpose="Looking for ABC 123 near the school")
    assert response.status_code == 302
    [stored] = searches(session)
    assert (stored.result_count, stored.followed_plate, stored.protected_request_id) == (
        0,
        None,
        request.id,
    )
    assert stored.followed_plate_hmac == plate_hmac(app.config["ACP_HMAC_KEY"], "ABC123")
    assert stored.purpose == "Looking for [protected plate] near the school"
    assert json.loads(stored.criteria_json)["plate"] is None
    [performed] = entry_details(session, AuditAction.SEARCH_PERFORMED)
    assert performed["criteria"]["plate"] == f"protected plate (ACP request #{request.id})"
    assert "ABC" not in json.dumps(performed)

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No reads match." in page and "ABC" not in page


def test_partial_plates_find_only_reads_in_use(client, session, operator):
    ReadFactory(plate="ABC999")
    hidden = ReadFactory(plate="ABC123")
    request = _protected(session)
    assert post(client, plate="ABC*").status_code == 302
    assert post(client, plate="ABC1*", hours=48).status_code == 302, "matches nothing in use"
    assert post(client, plate="ABC123*").status_code == 302
    wide, only_hidden, named = searches(session)
    page = client.get(f"/alpr/searches/{wide.id}").get_data(as_text=True)
    assert "ABC999" in page and f"/alpr/reads/{hidden.id}" not in page
    assert (wide.result_count, wide.followed_plate) == (1, "ABC999"), "the one plate in use"
    assert wide.protected_request_id is None
    assert (only_hidden.result_count, only_hidden.protected_request_id) == (0, request.id)
    assert (only_hidden.followed_plate, only_hidden.followed_plate_hmac) == (None, None)
    assert not only_hidden.is_tracking, "no refusal says that it matched a single plate"
    assert (named.result_count, named.protected_request_id) == (0, request.id)
    assert named.followed_plate_hmac is not None and "ABC123" not in named.criteria_json


def test_a_declined_or_ended_request_protects_the_plate_no_more(client, session, operator):
    request = _protected(session)
    request.status = "ended"
    session.commit()
    ReadFactory(plate="ABC123")
    assert post(client, plate="ABC123").status_code == 302
    [stored] = searches(session)
    assert (stored.result_count, stored.followed_plate, stored.protected_request_id) == (
        1,
        "ABC123",
        None,
    )


def test_a_search_of_an_acp_plate_leaves_no_clear_plate_anywhere_in_the_database(
    app, client, session, login_as
):
    """Searches before and after the request, a page, a plate history, a refusal and the
    auditor's look: then every text column of every table."""
    device = DeviceFactory()
    ReadFactory(plate="ABC123", device=device, captured_at=utcnow() - timedelta(hours=2))
    ReadFactory(plate="KEEP01", device=device)
    officer = login_as(Role.OPERATOR)
    # short windows inside the later ones: a minute passing between posts adds no tracking time
    before = post(client, plate="ABC123", hours=2, purpose="Find abc 123 before the request")
    assert client.get(before.headers["Location"]).status_code == 200
    assert post(client, plate="ABC123", hours=24 * 5).status_code == 403
    records = UserFactory(roles=[Role.RECORDS])
    request = receive_acp_request(
        session,
        records,
        participant_number="ACP-44",
        plates=["ABC 123"],
        received_on=local_today(),
        paper_original=PAPER_ORIGINAL,
    )
    verify_acp_request(session, records, request)
    destroy_existing_acp_data(session, records, request)
    session.commit()

    found = post(client, plate="abc-123", purpose="Find ABC 123, seen near the school")
    assert found.status_code == 302
    assert client.get(found.headers["Location"]).status_code == 200
    assert post(client, plate="ABC123*", hours=2).status_code == 302
    history = "/alpr/plates/ABC123/history"
    assert post(client, path=history, hours=72, exigent_statement=EXIGENCY).status_code == 302
    refused = post(client, plate="ABC123", hours=24 * 5)
    assert refused.status_code == 403, "tracking a protected plate is refused like any other"
    client.post("/logout", data={"csrf_token": form_csrf(client, "/")})
    login_as(Role.AUDITOR)
    trail = client.get("/audit/").get_data(as_text=True)
    assert f"protected plate (ACP request #{request.id})" in trail
    assert officer.email in trail

    session.rollback()
    bind = session.get_bind()
    tables = MetaData()
    tables.reflect(bind=bind)
    with bind.connect() as conn:

        def holding(text: str) -> list[str]:
            return [
                f"{table.name}.{column.name}"
                for table in tables.sorted_tables
                for column in table.columns
                if isinstance(column.type, String)
                and conn.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(func.upper(column).like(f"%{text}%"))
                )
            ]

        assert "reads.plate" in holding("KEEP01"), "the scan finds a plate stored in clear"
        for spelled in ("ABC123", "ABC 123", "ABC-123"):
            assert holding(spelled) == [], f"{spelled} is stored in clear"
    assert acp_plates_stored(session).count == 0
    assert verify(session).ok


def test_searches_made_before_the_request_stop_naming_the_plate(client, session, operator):
    ReadFactory(plate="ABC123", captured_at=utcnow() - timedelta(hours=2))
    ReadFactory(plate="XYZ999")
    looking = "Looking for ABC 123 near school"
    assert post(client, plate="abc123", hours=12, purpose=looking).status_code == 302
    assert post(client, plate="ABC1*", hours=12).status_code == 302, "follows its one plate"
    assert post(client, plate="XYZ999").status_code == 302
    assert post(client, plate="ABC123", hours=24 * 5).status_code == 403
    request = _protected(session)

    exact, partial, other = searches(session)
    for search in (exact, partial):
        assert (search.followed_plate, search.protected_request_id) == (None, request.id)
        assert search.followed_plate_hmac is not None
        assert json.loads(search.criteria_json)["plate"] is None
    assert exact.purpose == "Looking for [protected plate] near school"
    assert (other.followed_plate, other.protected_request_id) == ("XYZ999", None)
    performed = entries(session, AuditAction.SEARCH_PERFORMED)
    refused = entries(session, AuditAction.SEARCH_REFUSED)
    blanked = {e.id for e in performed + refused if e.detail.redacted_at is not None}
    assert blanked == {performed[0].id, performed[1].id, refused[0].id}
    assert all(e.detail.redacted_reason == PROTECTED_REASON for e in performed[:2] + refused)
    [redaction] = entry_details(session, AuditAction.AUDIT_DETAILS_REDACTED)
    assert sorted(redaction["entries"]) == sorted(blanked)
    assert verify(session).ok
    end = utcnow() - timedelta(hours=12)
    six, eighteen = (local(end - timedelta(hours=h)) for h in (6, 18))
    assert post(client, plate="ABC123", start=six, end=local(end)).status_code == 302
    refused = post(client, plate="ABC123", start=eighteen, end=local(end))
    assert refused.status_code == 403, "with the 12 hours searched before: 30 hours"
