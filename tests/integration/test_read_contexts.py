"""Every opening of a read has its documented purpose (425.6(b), 425.6(e)).

A read and its pictures open only in a context the link carries and the data bears out: a
search that showed the read (its searcher), an open hit on it, the review queue while it waits
there, an active investigation whose hold keeps it (its lead, the Deputy Chief, the designee).
Without one the page asks for a purpose and case number and shows nothing of the read.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.alpr import read_access
from app.alpr.read_access import CONTEXT_KINDS, ContextKind, ReadContext, register_context_kind
from app.alpr.search import KIND_READ_LOOKUP, SearchCriteria, record_shown_reads
from app.audit.actions import AuditAction
from app.auth.models import Role
from app.core.edges import MAX_ROW_ID
from app.db import utcnow
from app.reads.models import PlateStatus, Search
from tests.factories import (
    HitFactory,
    HoldFactory,
    InvestigationFactory,
    ReadFactory,
    SearchFactory,
    UserFactory,
)
from tests.helpers import (
    CSRF_INPUT,
    STATED_PURPOSE,
    add_image,
    entry_details,
    field_error,
    form_csrf,
    login,
    look_up_read,
)

PLATE = "QKV5528"
CHICAGO = ZoneInfo("America/Chicago")


def local(moment) -> str:
    """The datetime-local text a browser sends for `moment`."""
    return moment.astimezone(CHICAGO).strftime("%Y-%m-%dT%H:%M")


def shows_nothing_of(html: str, read) -> bool:
    """Neither the plate, the place, nor a picture of `read` is on the page."""
    return (
        read.plate not in html
        and f"{read.latitude:.5f}" not in html
        and "/images/" not in html
        and 'data-testid="read-plate"' not in html
    )


def shown_by_search(session, user, *reads) -> Search:
    search = SearchFactory(user=user)
    record_shown_reads(session, search, [read.id for read in reads])
    session.commit()
    return search


def refusals(session) -> list[dict]:
    session.commit()
    return entry_details(session, AuditAction.READ_ACCESS_REFUSED)


def views(session) -> list[dict]:
    session.commit()
    return entry_details(session, AuditAction.READ_VIEWED)


@pytest.fixture
def read(session):
    found = ReadFactory(plate=PLATE, latitude=44.04871, longitude=-91.63912)
    add_image(session, found)
    session.commit()
    return found


# --- no context: nothing shown, the purpose is asked for ------------------------------------


def test_a_bare_url_shows_no_read_data_and_asks_for_the_purpose(client, session, login_as, read):
    login_as(Role.OPERATOR)
    response = client.get(f"/alpr/reads/{read.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert shows_nothing_of(html, read)
    assert 'data-testid="purpose-needed"' in html
    assert all(name in html for name in ('name="purpose_category"', 'name="case_number"'))
    assert views(session) == []
    assert refusals(session) == [
        {"read_id": read.id, "opening": "read", "context": None, "context_given": False}
    ]


def test_a_picture_without_a_context_is_not_found(client, session, login_as, read):
    login_as(Role.OPERATOR)
    response = client.get(f"/alpr/reads/{read.id}/images/plate")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert entry_details(session, AuditAction.READ_IMAGE_VIEWED) == []
    assert refusals(session)[0]["opening"] == "image:plate"


def test_a_read_that_does_not_exist_asks_the_same(client, session, login_as, read):
    """Walking ids tells nothing, not even which reads exist."""
    login_as(Role.OPERATOR)

    def page(read_id: int) -> str:
        html = client.get(f"/alpr/reads/{read_id}").get_data(as_text=True)
        # The CSRF token is signed with the second it was made, wherever the page carries it.
        html = html.replace(CSRF_INPUT.search(html).group(1), "TOKEN")
        return re.sub(rf"(/alpr/reads/|read ){read_id}\b", r"\1N", html)

    assert page(read.id + 1000) == page(read.id)


@pytest.mark.parametrize(
    "via",
    [
        "search",
        "search:",
        "search:abc",
        "search:0",
        "search:-1",
        "search:01",
        f"search:{2**63}",
        "search:1:2",
        " search:1",
        "SEARCH:1",
        "review:1",
        "hit",
        "bogus:1",
        "search:1\x00",
        "x" * 5000,
    ],
)
def test_a_malformed_or_unknown_context_is_no_context(client, session, login_as, read, via):
    user = login_as(Role.OPERATOR)
    shown_by_search(session, user, read)  # search 1, even, would cover the read
    response = client.get(f"/alpr/reads/{read.id}", query_string={"via": via})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and shows_nothing_of(html, read)
    assert 'data-testid="context-refusal"' in html
    assert views(session) == []
    assert refusals(session)[-1] == {
        "read_id": read.id,
        "opening": "read",
        "context": None,
        "context_given": True,
    }


@pytest.mark.parametrize(
    "via",
    [
        "search:999999",
        f"search:{MAX_ROW_ID}",
        f"hit:{MAX_ROW_ID}",
        "investigation:2147483648",
        f"investigation:{MAX_ROW_ID}",
    ],
)
def test_a_context_naming_no_row_covers_nothing(client, session, login_as, read, via):
    login_as(Role.DEPUTY_CHIEF)
    response = client.get(f"/alpr/reads/{read.id}", query_string={"via": via})
    assert response.status_code == 200 and shows_nothing_of(response.get_data(as_text=True), read)
    assert refusals(session)[-1]["context"] == via


def test_context_parsing():
    assert ReadContext.parse("search:12") == ReadContext("search", 12)
    assert ReadContext.parse("review") == ReadContext("review")
    assert ReadContext.parse(f"hit:{MAX_ROW_ID}") == ReadContext("hit", MAX_ROW_ID)
    assert ReadContext.parse(f"hit:{MAX_ROW_ID + 1}") is None
    assert ReadContext.parse(None) is None
    assert str(ReadContext("investigation", 7)) == "investigation:7"


# --- the documented lookup --------------------------------------------------------------------


def test_stating_the_purpose_opens_the_read_in_a_search_of_it(client, session, login_as, read):
    user = login_as(Role.OPERATOR)
    response = look_up_read(client, read.id)
    assert response.status_code == 302
    [lookup] = session.scalars(select(Search)).all()
    assert response.headers["Location"] == f"/alpr/reads/{read.id}?via=search:{lookup.id}"
    criteria = SearchCriteria.from_json(lookup.criteria_json)
    assert (criteria.kind, criteria.read_id, criteria.plate) == (KIND_READ_LOOKUP, read.id, None)
    assert (lookup.user_id, lookup.case_number, lookup.purpose, lookup.result_count) == (
        user.id,
        STATED_PURPOSE["case_number"],
        STATED_PURPOSE["purpose"],
        1,
    )
    [performed] = entry_details(session, AuditAction.SEARCH_PERFORMED)
    assert performed["criteria"]["read_id"] == read.id
    assert performed["purpose_category"] == STATED_PURPOSE["purpose_category"]

    listed = client.get(f"/alpr/searches/{lookup.id}").get_data(as_text=True)
    assert "Read lookup" in listed
    assert f'href="/alpr/reads/{read.id}?via=search:{lookup.id}"' in listed

    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and PLATE in html
    assert f'src="/alpr/reads/{read.id}/images/plate?via=search:{lookup.id}"' in html
    assert views(session) == [{"images": 1, "context": f"search:{lookup.id}"}]
    picture = client.get(f"/alpr/reads/{read.id}/images/plate?via=search:{lookup.id}")
    assert picture.status_code == 200 and picture.mimetype == "image/jpeg"
    assert entry_details(session, AuditAction.READ_IMAGE_VIEWED)[0]["context"] == (
        f"search:{lookup.id}"
    )


def test_a_lookup_of_a_read_that_is_gone_is_recorded_and_not_found(client, session, login_as):
    login_as(Role.OPERATOR)
    assert look_up_read(client, 424242).status_code == 404
    [lookup] = session.scalars(select(Search)).all()
    assert lookup.result_count == 0
    assert entry_details(session, AuditAction.SEARCH_PERFORMED)[0]["result_count"] == 0


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"purpose_category": ""}, "purpose_category", "official use"),
        ({"purpose_category": "curiosity"}, "purpose_category", "Not a valid choice"),
        ({"purpose": ""}, "purpose", "required"),
        ({"purpose": "look"}, "purpose", "at least 10"),
        ({"purpose": "   \t        "}, "purpose", "required"),
        ({"case_number": ""}, "case_number", "required"),
        ({"case_number": "   "}, "case_number", "required"),
        ({"case_number": "1" * 65}, "case_number", "64"),
        ({"case_number": "24-\x001"}, "case_number", "control characters"),
        ({"purpose": "Burglary \x00 follow-up"}, "purpose", "control characters"),
    ],
)
def test_a_lookup_without_a_purpose_or_case_is_refused_at_its_field(
    client, session, login_as, read, fields, field_id, message
):
    login_as(Role.OPERATOR)
    response = look_up_read(client, read.id, **fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and shows_nothing_of(html, read)
    assert message in (field_error(html, field_id) or "")
    assert session.scalars(select(Search)).all() == []
    assert views(session) == []


def test_a_lookup_citing_a_closed_case_is_refused_and_audited(client, session, login_as, read):
    InvestigationFactory(
        case_number="24-77", status="closed", closed_on=utcnow().date(), closing_reason="done"
    )
    login_as(Role.OPERATOR)
    response = look_up_read(client, read.id, case_number="24-77")
    html = response.get_data(as_text=True)
    assert response.status_code == 403 and "is closed" in html and shows_nothing_of(html, read)
    assert session.scalars(select(Search)).all() == []
    assert "closed" in entry_details(session, AuditAction.SEARCH_REFUSED)[0]["reason"]


def test_a_lookup_needs_the_csrf_token(client, session, login_as, read):
    login_as(Role.OPERATOR)
    assert client.post(f"/alpr/reads/{read.id}", data=STATED_PURPOSE).status_code == 400
    assert session.scalars(select(Search)).all() == []


@pytest.mark.parametrize("value", [2**63, 10**30])
def test_ids_no_row_can_have_are_not_found(client, session, login_as, value):
    login_as(Role.OPERATOR)
    token = form_csrf(client, "/alpr/search")
    assert client.get(f"/alpr/reads/{value}").status_code == 404
    post = client.post(f"/alpr/reads/{value}", data={"csrf_token": token, **STATED_PURPOSE})
    assert post.status_code in (404, 405)  # no route takes the id, as for every id route
    assert session.scalars(select(Search)).all() == []


@pytest.mark.parametrize(("roles", "trained"), [((Role.RECORDS,), True), ((Role.OPERATOR,), False)])
def test_only_trained_data_roles_may_look_up(client, session, login_as, read, roles, trained):
    login_as(*roles, trained=trained)
    token = form_csrf(client, "/")
    assert client.get(f"/alpr/reads/{read.id}").status_code == 403
    answer = client.post(f"/alpr/reads/{read.id}", data={"csrf_token": token, **STATED_PURPOSE})
    assert answer.status_code == 403
    assert session.scalars(select(Search)).all() == []


# --- a search's context -----------------------------------------------------------------------


def test_a_search_context_opens_only_the_reads_it_showed(client, session, login_as):
    user = login_as(Role.OPERATOR)
    shown, other = ReadFactory(plate=PLATE), ReadFactory(plate="ZZZ9990")
    search = shown_by_search(session, user, shown)
    assert PLATE in client.get(f"/alpr/reads/{shown.id}?via=search:{search.id}").get_data(
        as_text=True
    )
    walked = client.get(f"/alpr/reads/{other.id}?via=search:{search.id}").get_data(as_text=True)
    assert shows_nothing_of(walked, other)
    assert refusals(session)[-1]["context"] == f"search:{search.id}"
    assert [v["context"] for v in views(session)] == [f"search:{search.id}"]


def test_only_the_searcher_opens_reads_in_their_search(client, session, login_as, read):
    searcher = UserFactory(roles=[Role.OPERATOR], trained=True)
    search = shown_by_search(session, searcher, read)
    login_as(Role.DEPUTY_CHIEF)
    html = client.get(f"/alpr/reads/{read.id}?via=search:{search.id}").get_data(as_text=True)
    assert shows_nothing_of(html, read)
    assert client.get(f"/alpr/reads/{read.id}/images/plate?via=search:{search.id}").status_code == (
        404
    )


def test_a_read_on_a_result_page_not_yet_viewed_does_not_open(client, session, login_as):
    login_as(Role.OPERATOR)
    now = utcnow()
    reads = [
        ReadFactory(plate="PAGE77", captured_at=now - timedelta(minutes=i + 1)) for i in range(51)
    ]
    token = form_csrf(client, "/alpr/search")
    location = client.post(
        "/alpr/search",
        data={
            "csrf_token": token,
            **STATED_PURPOSE,
            "plate": "PAGE77",
            "start": local(now - timedelta(hours=3)),
            "end": local(now + timedelta(minutes=1)),
            "device_id": "0",
            "deployment_id": "0",
        },
    ).headers["Location"]
    search_id = int(location.rsplit("/", 1)[1])
    first = client.get(location).get_data(as_text=True)
    oldest = reads[-1]  # the 51st, newest first: on page 2
    assert f"/alpr/reads/{oldest.id}?" not in first
    not_yet = client.get(f"/alpr/reads/{oldest.id}?via=search:{search_id}")
    assert shows_nothing_of(not_yet.get_data(as_text=True), oldest)
    second = client.get(f"{location}?page=2").get_data(as_text=True)
    assert f'href="/alpr/reads/{oldest.id}?via=search:{search_id}"' in second
    now_shown = client.get(f"/alpr/reads/{oldest.id}?via=search:{search_id}")
    assert "PAGE77" in now_shown.get_data(as_text=True)


# --- a hit's context --------------------------------------------------------------------------


def test_a_hit_being_worked_opens_its_read_and_only_its_read(client, session, login_as, read):
    login_as(Role.OPERATOR)
    hit, other = HitFactory(read=read), HitFactory()
    session.commit()
    panel = client.get(f"/alpr/hits/{hit.id}").get_data(as_text=True)
    assert f'href="/alpr/reads/{read.id}?via=hit:{hit.id}"' in panel
    opened = client.get(f"/alpr/reads/{read.id}?via=hit:{hit.id}").get_data(as_text=True)
    assert PLATE in opened and f"via=hit:{hit.id}" in opened  # its picture carries it too
    assert client.get(f"/alpr/reads/{read.id}/images/plate?via=hit:{hit.id}").status_code == 200
    walked = client.get(f"/alpr/reads/{other.read_id}?via=hit:{hit.id}").get_data(as_text=True)
    assert shows_nothing_of(walked, other.read)
    assert [v["context"] for v in views(session)] == [f"hit:{hit.id}"]


def test_a_closed_hit_is_no_longer_a_context(client, session, login_as, read):
    login_as(Role.OPERATOR)
    hit = HitFactory(read=read, status="closed", closing_note="done")
    session.commit()
    panel = client.get(f"/alpr/hits/{hit.id}").get_data(as_text=True)
    assert "/alpr/reads/" not in panel
    html = client.get(f"/alpr/reads/{read.id}?via=hit:{hit.id}").get_data(as_text=True)
    assert shows_nothing_of(html, read)


# --- the review queue's context ---------------------------------------------------------------


def test_the_review_queue_opens_a_read_while_it_waits_there(client, session, login_as, read):
    login_as(Role.OPERATOR)
    read.plate_status = PlateStatus.NEEDS_REVIEW.value
    session.commit()
    queue = client.get("/alpr/review").get_data(as_text=True)
    assert f'src="/alpr/reads/{read.id}/images/plate?via=review"' in queue
    assert client.get(f"/alpr/reads/{read.id}/images/plate?via=review").status_code == 200
    assert PLATE in client.get(f"/alpr/reads/{read.id}?via=review").get_data(as_text=True)

    read.plate_status = PlateStatus.CONFIRMED.value  # decided: it left the queue
    session.commit()
    assert client.get(f"/alpr/reads/{read.id}/images/plate?via=review").status_code == 404
    html = client.get(f"/alpr/reads/{read.id}?via=review").get_data(as_text=True)
    assert shows_nothing_of(html, read)


def test_a_read_never_in_the_queue_does_not_open_through_it(client, session, login_as, read):
    login_as(Role.OPERATOR)
    assert shows_nothing_of(
        client.get(f"/alpr/reads/{read.id}?via=review").get_data(as_text=True), read
    )


# --- an investigation's context ---------------------------------------------------------------


@pytest.fixture
def held(session, read):
    """An active investigation whose hold keeps `read`'s plate, led by an operator."""
    lead = UserFactory(roles=[Role.OPERATOR], trained=True)
    hold = HoldFactory(investigation=InvestigationFactory(lead_id=lead.id), held_plates=[PLATE])
    session.commit()
    return hold, lead


@pytest.mark.parametrize("who", ["lead", Role.DEPUTY_CHIEF, Role.DESIGNEE])
def test_the_lead_and_supervisors_open_a_held_read(client, session, login_as, read, held, who):
    hold, lead = held
    if who == "lead":
        login(client, lead.email)
    else:
        login_as(who)
    via = f"investigation:{hold.investigation_id}"
    assert PLATE in client.get(f"/alpr/reads/{read.id}?via={via}").get_data(as_text=True)
    assert views(session)[0]["context"] == via


def test_an_investigation_opens_no_read_for_another_operator(client, session, login_as, read, held):
    hold, _ = held
    login_as(Role.OPERATOR)
    html = client.get(f"/alpr/reads/{read.id}?via=investigation:{hold.investigation_id}")
    assert shows_nothing_of(html.get_data(as_text=True), read)


def test_an_investigation_opens_only_what_its_holds_keep(client, session, read, held):
    hold, lead = held
    outside = ReadFactory(plate="OTH1234")
    session.commit()
    login(client, lead.email)
    via = f"investigation:{hold.investigation_id}"
    walked = client.get(f"/alpr/reads/{outside.id}?via={via}").get_data(as_text=True)
    assert shows_nothing_of(walked, outside)

    hold.investigation.status = "closed"
    hold.investigation.closed_on = hold.investigation.opened_on
    hold.investigation.closing_reason = "charged"
    session.commit()
    closed = client.get(f"/alpr/reads/{read.id}?via={via}").get_data(as_text=True)
    assert shows_nothing_of(closed, read)


# --- the registry -----------------------------------------------------------------------------


def test_a_package_can_register_a_context_kind(client, session, login_as, read, monkeypatch):
    """A later kind (an approved agency release) plugs in without touching the views."""
    asked: list[tuple] = []

    def admits(session, actor, ref, read_id):
        asked.append((ref, read_id))
        return ref == 5

    monkeypatch.setattr(read_access, "CONTEXT_KINDS", dict(CONTEXT_KINDS))  # undone afterwards
    register_context_kind(ContextKind("release", True, admits))
    login_as(Role.OPERATOR)
    assert PLATE in client.get(f"/alpr/reads/{read.id}?via=release:5").get_data(as_text=True)
    refused = client.get(f"/alpr/reads/{read.id}?via=release:6").get_data(as_text=True)
    assert shows_nothing_of(refused, read)
    assert asked == [(5, read.id), (6, read.id)]
    assert views(session)[0]["context"] == "release:5"
