"""Hit alerts (policy 425.4(f)): every allowed and forbidden step, the live list and its audit."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.alpr.hits import (
    Verification,
    close_hit,
    confirm_hit,
    mark_hit_not_valid,
    mark_verification_impracticable,
    record_enforcement_action,
)
from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.db import utcnow
from app.reads.models import Hit
from app.workflow.machine import WorkflowError
from tests.conftest import BACKEND
from tests.factories import HitFactory, ReadFactory, UserFactory
from tests.helpers import entry_details, field_error, form_csrf

HTMX = {"HX-Request": "true"}
CHICAGO = ZoneInfo("America/Chicago")


def reload(session, hit: Hit) -> Hit:
    session.rollback()
    return session.get(Hit, hit.id, populate_existing=True)


def queried(minutes_ago: float = 1) -> Verification:
    return Verification("NLETS", "NLETS 26-004411", utcnow() - timedelta(minutes=minutes_ago))


def local(moment) -> str:
    """The datetime-local text a browser sends for `moment`."""
    return moment.astimezone(CHICAGO).strftime("%Y-%m-%dT%H:%M")


def a_hit(**fields) -> Hit:
    """A hit on a read captured an hour ago (so a query a minute ago is after it)."""
    if "impracticable_reason" not in fields and fields.get("status") == "impracticable":
        fields["impracticable_reason"] = "Radio outage"
    return HitFactory(read=ReadFactory(captured_at=utcnow() - timedelta(hours=1)), **fields)


# --- every step from every state ------------------------------------------------------------

STEPS = {
    "confirm": lambda s, a, h: confirm_hit(s, a, h, queried(), now=utcnow()),
    "confirm without reference": lambda s, a, h: confirm_hit(
        s, a, h, Verification("NLETS", " ", utcnow()), now=utcnow()
    ),
    "not valid": lambda s, a, h: mark_hit_not_valid(
        s, a, h, queried(), "NLETS: vehicle recovered", now=utcnow()
    ),
    "not valid without reason": lambda s, a, h: mark_hit_not_valid(
        s, a, h, queried(), " ", now=utcnow()
    ),
    "impracticable": lambda s, a, h: mark_verification_impracticable(
        s, a, h, "Radio outage; vehicle fleeing"
    ),
    "enforcement": lambda s, a, h: record_enforcement_action(s, a, h, "Traffic stop, arrest"),
    "enforcement without action": lambda s, a, h: record_enforcement_action(s, a, h, ""),
    "close": lambda s, a, h: close_hit(s, a, h, "Vehicle returned to owner"),
    "close without note": lambda s, a, h: close_hit(s, a, h, ""),
}
AUDITED = {
    "confirm": AuditAction.HIT_CONFIRMED,
    "not valid": AuditAction.HIT_NOT_VALID,
    "impracticable": AuditAction.HIT_VERIFICATION_IMPRACTICABLE,
    "enforcement": AuditAction.HIT_ENFORCEMENT_RECORDED,
    "close": AuditAction.HIT_CLOSED,
}
#: state → step → the state after it, or None when the step is refused.
TABLE = {
    "new": {
        "confirm": "confirmed",
        "confirm without reference": None,
        "not valid": "not_valid",
        "not valid without reason": None,
        "impracticable": "impracticable",
        "enforcement": None,  # unverified: verify, or say why it is not practicable (425.4(f))
        "enforcement without action": None,
        "close": None,
        "close without note": None,
    },
    "impracticable": {
        "confirm": "confirmed",
        "confirm without reference": None,
        "not valid": "not_valid",
        "not valid without reason": None,
        "impracticable": None,
        "enforcement": "impracticable",
        "enforcement without action": None,
        "close": "closed",
        "close without note": None,
    },
    "confirmed": {
        **dict.fromkeys(STEPS),
        "enforcement": "confirmed",
        "close": "closed",
    },
    "not_valid": {**dict.fromkeys(STEPS), "close": "closed"},
    "closed": dict.fromkeys(STEPS),
}


@pytest.mark.parametrize("state", TABLE)
def test_every_step_from_every_state(session, state):
    """One test per state (the wipe between tests is what costs): a fresh hit per step."""
    operator = UserFactory(roles=[Role.OPERATOR])
    for step, after in TABLE[state].items():
        hit = a_hit(status=state)
        before_entries = session.scalar(select(func.count(AuditEntry.id)))
        if after is None:
            with pytest.raises(WorkflowError) as refused:
                STEPS[step](session, operator, hit)
            session.rollback()
            assert reload(session, hit).status == state, step
            assert session.scalar(select(func.count(AuditEntry.id))) == before_entries, step
            assert len(str(refused.value)) > 10, step
        else:
            STEPS[step](session, operator, hit)
            session.commit()
            assert reload(session, hit).status == after, step
            assert hit.handled_by_id == operator.id, step
            entry = session.scalars(
                select(AuditEntry).where(AuditEntry.subject_id == str(hit.id))
            ).one()
            details = json.loads(entry.detail.details_json)
            assert (entry.action, details["from"], details["to"]) == (
                AUDITED[step].value,
                state,
                after,
            ), step


def test_a_verification_keeps_its_system_reference_and_time(session):
    operator = UserFactory(roles=[Role.OPERATOR])
    hit = a_hit()
    verification = queried(minutes_ago=3)
    confirm_hit(session, operator, hit, verification, now=utcnow())
    session.commit()
    hit = reload(session, hit)
    assert (hit.status, hit.verified_via, hit.verification_reference, hit.verified_at) == (
        "confirmed",
        "NLETS",
        "NLETS 26-004411",
        verification.queried_at,
    )
    [entry] = entry_details(session, AuditAction.HIT_CONFIRMED)
    assert (entry["verified_via"], entry["reference"], entry["verified_at"]) == (
        "NLETS",
        "NLETS 26-004411",
        verification.queried_at.isoformat(),
    )


def test_a_hit_verified_not_valid_refuses_enforcement(session):
    operator = UserFactory(roles=[Role.OPERATOR])
    hit = a_hit()
    mark_hit_not_valid(session, operator, hit, queried(), "NLETS: recovered 11/30", now=utcnow())
    session.commit()
    [entry] = entry_details(session, AuditAction.HIT_NOT_VALID)
    assert (entry["reason"], entry["reference"]) == ("NLETS: recovered 11/30", "NLETS 26-004411")
    with pytest.raises(WorkflowError, match="enforcement on it is refused"):
        record_enforcement_action(session, operator, hit, "Felony stop")
    session.rollback()
    assert reload(session, hit).enforcement_action is None


def test_enforcement_where_verification_is_not_practicable_keeps_the_reason(session):
    operator = UserFactory(roles=[Role.OPERATOR])
    hit = a_hit()
    mark_verification_impracticable(session, operator, hit, "Suspect fleeing, radio down")
    record_enforcement_action(session, operator, hit, "Felony stop")
    confirm_hit(session, operator, hit, queried(), now=utcnow())  # verified afterwards
    close_hit(session, operator, hit, "Arrest made")
    session.commit()
    hit = reload(session, hit)
    assert (
        hit.status,
        hit.impracticable_reason,
        hit.enforcement_action,
        hit.verified_via,
        hit.closing_note,
    ) == ("closed", "Suspect fleeing, radio down", "Felony stop", "NLETS", "Arrest made")
    [enforced] = entry_details(session, AuditAction.HIT_ENFORCEMENT_RECORDED)
    assert enforced["impracticable_reason"] == "Suspect fleeing, radio down"
    assert entry_details(session, AuditAction.HIT_CLOSED)[0]["note"] == "Arrest made"


def test_enforcement_on_a_hit_verified_valid_names_no_impracticable_reason(session):
    hit = a_hit(status="confirmed")
    record_enforcement_action(session, UserFactory(roles=[Role.OPERATOR]), hit, "Citation")
    session.commit()
    assert (
        entry_details(session, AuditAction.HIT_ENFORCEMENT_RECORDED)[0]["impracticable_reason"]
        is None
    )


def test_enforcement_is_recorded_once(session):
    operator = UserFactory(roles=[Role.OPERATOR])
    hit = a_hit(status="confirmed")
    record_enforcement_action(session, operator, hit, "Citation")
    with pytest.raises(WorkflowError, match="already recorded"):
        record_enforcement_action(session, operator, hit, "Arrest")
    assert hit.enforcement_action == "Citation"


@pytest.mark.parametrize(
    ("queried_at", "message"),
    [
        (lambda read: utcnow() + timedelta(minutes=5), "future"),
        (lambda read: read.captured_at - timedelta(minutes=2), "before the read"),
    ],
    ids=["future", "before the read"],
)
def test_a_query_time_out_of_bounds_is_refused(session, queried_at, message):
    hit = a_hit()
    verification = Verification("MNJIS", "MNJIS-7", queried_at(hit.read))
    with pytest.raises(WorkflowError, match=message) as refused:
        confirm_hit(session, UserFactory(roles=[Role.OPERATOR]), hit, verification, now=utcnow())
    assert refused.value.field == "verified_at"
    session.rollback()
    assert reload(session, hit).status == "new"


# --- the live list --------------------------------------------------------------------------


def fingerprint(html: str) -> str:
    return re.search(r"fp=([0-9a-f]+)", html).group(1)


def test_page_polls_the_same_partial_and_audits_the_view(client, session, login_as):
    hits = HitFactory.create_batch(3)
    HitFactory(status="closed")
    login_as(Role.OPERATOR)
    page = client.get("/alpr/hits")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="hits-live"' in html and 'hx-trigger="every 5s' in html
    for hit in hits:
        assert f'id="hit-{hit.id}"' in html
    viewed = entry_details(session, AuditAction.HITS_VIEWED)
    assert viewed == [
        {"count": 3, "hit_ids": sorted(viewed[0]["hit_ids"], reverse=True), "trigger": "page"}
    ]
    assert set(viewed[0]["hit_ids"]) == {h.id for h in hits}

    fp = fingerprint(html)
    unchanged = client.get(f"/alpr/hits?fp={fp}", headers=HTMX)
    assert unchanged.status_code == 204
    assert len(entry_details(session, AuditAction.HITS_VIEWED)) == 1  # an idle poll adds nothing

    newest = HitFactory()
    changed = client.get(f"/alpr/hits?fp={fp}", headers=HTMX)
    partial = changed.get_data(as_text=True)
    assert changed.status_code == 200 and partial.lstrip().startswith('<div id="hits-live"')
    assert f'id="hit-{newest.id}"' in partial and "<html" not in partial
    polls = entry_details(session, AuditAction.HITS_VIEWED)
    assert len(polls) == 2 and polls[1]["count"] == 4 and polls[1]["trigger"] == "poll"


def test_closed_hits_only_when_asked(client, session, login_as):
    closed = HitFactory(status="closed")
    login_as(Role.OPERATOR)
    assert f'id="hit-{closed.id}"' not in client.get("/alpr/hits").get_data(as_text=True)
    assert f'id="hit-{closed.id}"' in client.get("/alpr/hits?show=all").get_data(as_text=True)


def test_working_a_hit_through_htmx(client, session, login_as):
    hit = a_hit()
    login_as(Role.OPERATOR)
    panel = client.get(f"/alpr/hits/{hit.id}", headers=HTMX)
    html = panel.get_data(as_text=True)
    assert panel.status_code == 200 and "<html" not in html
    assert 'data-step="record_enforcement"' not in html  # unverified: no enforcement offered
    assert entry_details(session, AuditAction.HITS_VIEWED)[-1]["trigger"] == "detail"
    token = form_csrf(client, f"/alpr/hits/{hit.id}")

    refused = client.post(
        f"/alpr/hits/{hit.id}/enforcement",
        data={"enforcement-csrf_token": token, "enforcement-action": "Arrest"},
        headers=HTMX,
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "not practicable" in body and 'role="alert"' in body
    assert "HX-Trigger" not in refused.headers
    assert reload(session, hit).enforcement_action is None

    done = client.post(
        f"/alpr/hits/{hit.id}/confirm",
        data={
            "confirm-csrf_token": token,
            "confirm-verified_via": "NLETS",
            "confirm-verification_reference": "NLETS 26-1",
            "confirm-verified_at": local(utcnow()),
        },
        headers=HTMX,
    )
    assert done.status_code == 200 and done.headers["HX-Trigger"] == "hits-changed"
    assert "verified valid" in done.get_data(as_text=True)
    assert reload(session, hit).status == "confirmed"
    assert entry_details(session, AuditAction.HIT_CONFIRMED)[0]["reference"] == "NLETS 26-1"


def test_a_hit_verified_not_valid_says_so_and_offers_no_enforcement(client, session, login_as):
    hit = a_hit()
    login_as(Role.OPERATOR)
    token = form_csrf(client, f"/alpr/hits/{hit.id}")
    done = client.post(
        f"/alpr/hits/{hit.id}/not-valid",
        data={
            "not-valid-csrf_token": token,
            "not-valid-verified_via": "MNJIS",
            "not-valid-verification_reference": "MNJIS 77",
            "not-valid-verified_at": local(utcnow()),
            "not-valid-reason": "Plate reported recovered",
        },
    )
    assert done.status_code == 302
    html = client.get(f"/alpr/hits/{hit.id}").get_data(as_text=True)
    assert (
        'data-testid="enforcement-refused"' in html
        and "enforcement on this alert is refused" in html
    )
    assert 'data-step="record_enforcement"' not in html and 'data-step="close"' in html
    assert "MNJIS 77" in html
    refused = client.post(
        f"/alpr/hits/{hit.id}/enforcement",
        data={"enforcement-csrf_token": token, "enforcement-action": "Arrest"},
    )
    assert refused.status_code == 422 and "refused" in refused.get_data(as_text=True)
    assert reload(session, hit).enforcement_action is None


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"confirm-verification_reference": ""}, "confirm-verification_reference", "required"),
        ({"confirm-verification_reference": "R" * 101}, "confirm-verification_reference", "100"),
        (
            {"confirm-verification_reference": "A\x00B"},
            "confirm-verification_reference",
            "control characters",
        ),
        ({"confirm-verification_reference": "A\nB"}, "confirm-verification_reference", "one line"),
        ({"confirm-verified_at": ""}, "confirm-verified_at", "required"),
        ({"confirm-verified_at": "9999-12-31T23:59"}, "confirm-verified_at", "year"),
        ({"confirm-verified_via": "a hunch"}, "confirm-verified_via", "Not a valid choice"),
        ({"confirm-verified_at": "future"}, "confirm-verified_at", "future"),
        ({"confirm-verified_at": "before"}, "confirm-verified_at", "before the read"),
    ],
)
def test_a_bad_verification_is_refused_at_its_field(
    client, session, login_as, fields, field_id, message
):
    hit = a_hit()
    login_as(Role.OPERATOR)
    moments = {
        "future": local(utcnow() + timedelta(hours=2)),
        "before": local(hit.read.captured_at - timedelta(hours=1)),
    }
    data = {
        "confirm-csrf_token": form_csrf(client, f"/alpr/hits/{hit.id}"),
        "confirm-verified_via": "NLETS",
        "confirm-verification_reference": "NLETS 26-1",
        "confirm-verified_at": local(utcnow()),
    }
    data.update({key: moments.get(value, value) for key, value in fields.items()})
    response = client.post(f"/alpr/hits/{hit.id}/confirm", data=data)
    assert response.status_code == 422
    assert message in (field_error(response.get_data(as_text=True), field_id) or "")
    assert reload(session, hit).status == "new"
    assert entry_details(session, AuditAction.HIT_CONFIRMED) == []


@pytest.mark.parametrize(
    ("state", "step", "field"),
    [
        ("new", "not-valid", "reason"),
        ("new", "impracticable", "impracticable_reason"),
        ("confirmed", "enforcement", "action"),
        ("confirmed", "close", "note"),
    ],
)
def test_a_nul_in_a_steps_text_is_refused_at_its_field(
    client, session, login_as, state, step, field
):
    hit = a_hit(status=state)
    login_as(Role.OPERATOR)
    data = {
        f"{step}-csrf_token": form_csrf(client, f"/alpr/hits/{hit.id}"),
        f"{step}-verified_via": "NLETS",
        f"{step}-verification_reference": "NLETS 26-1",
        f"{step}-verified_at": local(utcnow()),
        f"{step}-{field}": "stated\x00 here",
    }
    response = client.post(f"/alpr/hits/{hit.id}/{step}", data=data)
    assert response.status_code == 422
    error = field_error(response.get_data(as_text=True), f"{step}-{field}") or ""
    assert "control characters" in error
    assert reload(session, hit).status == state
    steps = select(func.count(AuditEntry.id)).where(AuditEntry.action.like("hit.%"))
    assert session.scalar(steps) == 0


def test_plain_form_posts_get_422_or_a_redirect(client, session, login_as):
    hit = a_hit(status="confirmed")
    login_as(Role.OPERATOR)
    token = form_csrf(client, f"/alpr/hits/{hit.id}")
    illegal = client.post(
        f"/alpr/hits/{hit.id}/impracticable",
        data={"impracticable-csrf_token": token, "impracticable-impracticable_reason": "no"},
    )
    assert illegal.status_code == 422 and "cannot take" in illegal.get_data(as_text=True)
    empty = client.post(f"/alpr/hits/{hit.id}/close", data={"close-csrf_token": token})
    assert empty.status_code == 422
    closed = client.post(
        f"/alpr/hits/{hit.id}/close", data={"close-csrf_token": token, "close-note": "Done"}
    )
    assert closed.status_code == 302
    assert reload(session, hit).status == "closed"


def test_steps_need_the_csrf_token(client, session, login_as):
    hit = HitFactory(status="confirmed")
    login_as(Role.OPERATOR)
    response = client.post(f"/alpr/hits/{hit.id}/close", data={"close-note": "Done"}, headers=HTMX)
    assert response.status_code == 400
    assert reload(session, hit).status == "confirmed"


@pytest.mark.parametrize(
    ("roles", "trained"),
    [((Role.OPERATOR,), False), ((Role.RECORDS,), True), ((Role.AUDITOR,), True)],
)
def test_only_trained_data_roles_see_hits(client, session, login_as, roles, trained):
    hit = HitFactory()
    login_as(*roles, trained=trained)
    assert client.get("/alpr/hits").status_code == 403
    assert client.get(f"/alpr/hits/{hit.id}").status_code == 403


def test_anonymous_is_sent_to_login(client, session):
    response = client.get("/alpr/hits")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite serialises writers: no two at once")
def test_two_operators_working_one_hit_at_once_take_their_steps_in_turn(app, session):
    """The second step waits for the first, then its guard sees the state the first left."""
    hit = a_hit()
    first, second = (UserFactory(roles=[Role.OPERATOR], trained=True) for _ in range(2))
    session.commit()
    factory = app.extensions["alpr_sessionmaker"]
    refused: list[str] = []

    def not_valid_meanwhile() -> None:
        with app.app_context(), factory() as other:
            try:
                mark_hit_not_valid(
                    other,
                    other.get(User, second.id),
                    other.get(Hit, hit.id),
                    queried(),
                    "NLETS: clear",
                    now=utcnow(),
                )
                other.commit()
            except WorkflowError as exc:
                refused.append(str(exc))

    with factory() as mine:
        confirm_hit(mine, mine.get(User, first.id), mine.get(Hit, hit.id), queried(), now=utcnow())
        worker = threading.Thread(target=not_valid_meanwhile)
        worker.start()
        worker.join(timeout=1)
        assert worker.is_alive(), "the second step did not wait for the hit's row lock"
        mine.commit()
    worker.join(timeout=30)

    assert len(refused) == 1
    assert reload(session, hit).status == "confirmed"
    assert len(entry_details(session, AuditAction.HIT_CONFIRMED)) == 1
    assert entry_details(session, AuditAction.HIT_NOT_VALID) == []
