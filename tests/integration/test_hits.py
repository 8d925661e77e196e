"""Hit alerts (policy 425.4(f)): every allowed and forbidden step, the live list and its audit."""

from __future__ import annotations

import json
import re
import threading

import pytest
from sqlalchemy import func, select

from app.alpr.hits import (
    close_hit,
    confirm_hit,
    mark_hit_not_confirmed,
    record_enforcement_action,
)
from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.reads.models import Hit
from app.workflow.machine import WorkflowError
from tests.conftest import BACKEND
from tests.factories import HitFactory, UserFactory
from tests.helpers import entry_details, form_csrf

HTMX = {"HX-Request": "true"}


def reload(session, hit: Hit) -> Hit:
    session.rollback()
    return session.get(Hit, hit.id, populate_existing=True)


# --- every step from every state ------------------------------------------------------------

STEPS = {
    "confirm": lambda s, a, h: confirm_hit(s, a, h, "NLETS"),
    "confirm without system": lambda s, a, h: confirm_hit(s, a, h, "a hunch"),
    "not confirmed": lambda s, a, h: mark_hit_not_confirmed(s, a, h, "NLETS: vehicle recovered"),
    "not confirmed without reason": lambda s, a, h: mark_hit_not_confirmed(s, a, h, " "),
    "enforcement": lambda s, a, h: record_enforcement_action(s, a, h, "Traffic stop, arrest"),
    "enforcement, impracticable": lambda s, a, h: record_enforcement_action(
        s, a, h, "Felony stop", "Radio outage; vehicle fleeing"
    ),
    "enforcement without action": lambda s, a, h: record_enforcement_action(s, a, h, "", "x"),
    "close": lambda s, a, h: close_hit(s, a, h, "Vehicle returned to owner"),
    "close without note": lambda s, a, h: close_hit(s, a, h, ""),
}
AUDITED = {
    "confirm": AuditAction.HIT_CONFIRMED,
    "not confirmed": AuditAction.HIT_NOT_CONFIRMED,
    "enforcement": AuditAction.HIT_ENFORCEMENT_RECORDED,
    "enforcement, impracticable": AuditAction.HIT_ENFORCEMENT_RECORDED,
    "close": AuditAction.HIT_CLOSED,
}
#: state → step → the state after it, or None when the step is refused.
TABLE = {
    "new": {
        "confirm": "confirmed",
        "confirm without system": None,
        "not confirmed": "not_confirmed",
        "not confirmed without reason": None,
        "enforcement": None,  # unverified: needs the impracticable reason (425.4(f))
        "enforcement, impracticable": "new",
        "enforcement without action": None,
        "close": None,
        "close without note": None,
    },
    "confirmed": {
        "confirm": None,
        "confirm without system": None,
        "not confirmed": None,
        "not confirmed without reason": None,
        "enforcement": "confirmed",
        "enforcement, impracticable": "confirmed",
        "enforcement without action": None,
        "close": "closed",
        "close without note": None,
    },
    "not_confirmed": {
        "confirm": None,
        "confirm without system": None,
        "not confirmed": None,
        "not confirmed without reason": None,
        "enforcement": None,
        "enforcement, impracticable": "not_confirmed",
        "enforcement without action": None,
        "close": "closed",
        "close without note": None,
    },
    "closed": dict.fromkeys(STEPS),
}


@pytest.mark.parametrize("state", TABLE)
def test_every_step_from_every_state(session, state):
    """One test per state (the wipe between tests is what costs): a fresh hit per step."""
    operator = UserFactory(roles=[Role.OPERATOR])
    for step, after in TABLE[state].items():
        hit = HitFactory(status=state)
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


def test_unverified_enforcement_names_the_policy(session):
    hit = HitFactory()
    with pytest.raises(WorkflowError, match=r"impracticable.*425\.4\(f\)"):
        record_enforcement_action(session, UserFactory(roles=[Role.OPERATOR]), hit, "Arrest")


def test_enforcement_is_recorded_once(session):
    operator = UserFactory(roles=[Role.OPERATOR])
    hit = HitFactory(status="confirmed")
    record_enforcement_action(session, operator, hit, "Citation")
    with pytest.raises(WorkflowError, match="already recorded"):
        record_enforcement_action(session, operator, hit, "Arrest")
    assert hit.enforcement_action == "Citation"


def test_the_steps_keep_their_reasons(session):
    operator = UserFactory(roles=[Role.OPERATOR])
    hit = HitFactory()
    record_enforcement_action(session, operator, hit, "Felony stop", "Suspect fleeing")
    confirm_hit(session, operator, hit, "MNJIS and NLETS")
    close_hit(session, operator, hit, "Arrest made")
    session.commit()
    hit = reload(session, hit)
    assert (
        hit.verified_via,
        hit.enforcement_action,
        hit.impracticable_reason,
        hit.closing_note,
    ) == (
        "MNJIS and NLETS",
        "Felony stop",
        "Suspect fleeing",
        "Arrest made",
    )
    assert entry_details(session, AuditAction.HIT_ENFORCEMENT_RECORDED)[0][
        "impracticable_reason"
    ] == ("Suspect fleeing")
    assert entry_details(session, AuditAction.HIT_CONFIRMED)[0]["verified_via"] == "MNJIS and NLETS"
    assert entry_details(session, AuditAction.HIT_CLOSED)[0]["note"] == "Arrest made"


def test_enforcement_on_a_confirmed_hit_keeps_no_impracticable_reason(session):
    hit = HitFactory(status="confirmed")
    record_enforcement_action(
        session, UserFactory(roles=[Role.OPERATOR]), hit, "Citation", "not needed"
    )
    assert hit.impracticable_reason is None


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
    hit = HitFactory()
    login_as(Role.OPERATOR)
    panel = client.get(f"/alpr/hits/{hit.id}", headers=HTMX)
    assert panel.status_code == 200 and "<html" not in panel.get_data(as_text=True)
    assert entry_details(session, AuditAction.HITS_VIEWED)[-1]["trigger"] == "detail"
    token = form_csrf(client, f"/alpr/hits/{hit.id}")

    refused = client.post(
        f"/alpr/hits/{hit.id}/enforcement",
        data={"enforcement-csrf_token": token, "enforcement-action": "Arrest"},
        headers=HTMX,
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "impracticable" in body and 'role="alert"' in body
    assert "HX-Trigger" not in refused.headers
    assert reload(session, hit).enforcement_action is None

    done = client.post(
        f"/alpr/hits/{hit.id}/confirm",
        data={"confirm-csrf_token": token, "confirm-verified_via": "NLETS"},
        headers=HTMX,
    )
    assert done.status_code == 200 and done.headers["HX-Trigger"] == "hits-changed"
    assert "confirm recorded" in done.get_data(as_text=True)
    assert reload(session, hit).status == "confirmed"
    assert entry_details(session, AuditAction.HIT_CONFIRMED)[0]["verified_via"] == "NLETS"


def test_plain_form_posts_get_422_or_a_redirect(client, session, login_as):
    hit = HitFactory(status="confirmed")
    login_as(Role.OPERATOR)
    token = form_csrf(client, f"/alpr/hits/{hit.id}")
    illegal = client.post(
        f"/alpr/hits/{hit.id}/not-confirmed",
        data={"not-confirmed-csrf_token": token, "not-confirmed-reason": "no"},
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
    hit = HitFactory()
    first, second = (UserFactory(roles=[Role.OPERATOR], trained=True) for _ in range(2))
    session.commit()
    factory = app.extensions["alpr_sessionmaker"]
    refused: list[str] = []

    def not_confirmed_meanwhile() -> None:
        with app.app_context(), factory() as other:
            try:
                mark_hit_not_confirmed(
                    other, other.get(User, second.id), other.get(Hit, hit.id), "NLETS: clear"
                )
                other.commit()
            except WorkflowError as exc:
                refused.append(str(exc))

    with factory() as mine:
        confirm_hit(mine, mine.get(User, first.id), mine.get(Hit, hit.id), "NLETS")
        worker = threading.Thread(target=not_confirmed_meanwhile)
        worker.start()
        worker.join(timeout=1)
        assert worker.is_alive(), "the second step did not wait for the hit's row lock"
        mine.commit()
    worker.join(timeout=30)

    assert len(refused) == 1
    assert reload(session, hit).status == "confirmed"
    assert len(entry_details(session, AuditAction.HIT_CONFIRMED)) == 1
    assert entry_details(session, AuditAction.HIT_NOT_CONFIRMED) == []
