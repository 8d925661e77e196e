"""The investigations registry: open, close (with a reason), reopen (chief/designee/admin only)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.actions import AuditAction
from app.auth.models import Role, User, UserRole
from app.core.refusal import Refusal
from app.core.timeutil import local_today
from app.investigations.models import Investigation
from app.investigations.services import (
    close_investigation,
    open_investigation,
    reopen_investigation,
)
from app.investigations.workflow import InvestigationMachine
from app.workflow.machine import WorkflowError
from tests.factories import AgencyFactory, InvestigationFactory, UserFactory
from tests.helpers import entry_details, form_csrf


def reload(session, case: Investigation) -> Investigation:
    session.rollback()  # end the read snapshot (SQLite WAL) to see what requests committed
    return session.get(Investigation, case.id, populate_existing=True)


# --- the machine: every allowed and every forbidden transition ------------------------------

CHIEF = (Role.DEPUTY_CHIEF,)
TRANSITIONS = [
    # (from, event, actor roles, reason, allowed)
    ("active", "close", (Role.OPERATOR,), "case cleared by arrest", True),
    ("active", "close", (Role.OPERATOR,), "  ", False),
    ("active", "reopen", CHIEF, "new evidence", False),
    ("closed", "reopen", CHIEF, "new evidence", True),
    ("closed", "reopen", (Role.DESIGNEE,), "new evidence", True),
    ("closed", "reopen", (Role.ADMIN,), "new evidence", True),
    ("closed", "reopen", (Role.OPERATOR,), "new evidence", False),
    ("closed", "reopen", (Role.RECORDS,), "new evidence", False),
    ("closed", "reopen", CHIEF, "", False),
    ("closed", "close", CHIEF, "again", False),
]


def person(*roles: Role) -> User:
    """An unsaved user: the machine needs only the roles, and no database keeps these tests fast."""
    return User(email="x@example.test", name="X", role_rows=[UserRole(role=r.value) for r in roles])


@pytest.mark.parametrize(("state", "event", "roles", "reason", "allowed"), TRANSITIONS)
def test_investigation_machine(state, event, roles, reason, allowed):
    actor = person(*roles)
    case = Investigation(case_number="X", title="t", status=state, opened_on=local_today())
    machine = InvestigationMachine.around(case)
    if allowed:
        machine.fire(event, reason=reason, actor=actor)
        assert case.status == {"close": "closed", "reopen": "active"}[event]
    else:
        with pytest.raises(WorkflowError) as refused:
            machine.fire(event, reason=reason, actor=actor)
        assert case.status == state
        assert str(refused.value)  # a reason a person can act on


#: A closed case's disposition: (from, event, actor roles, allowed). Inputs satisfy every guard.
DISPOSITIONS = [
    ("closed", "retain", CHIEF, True),
    ("closed", "retain", (Role.DESIGNEE,), True),
    ("closed", "retain", (Role.ADMIN,), False),
    ("closed", "retain", (Role.OPERATOR,), False),
    ("closed", "release_data", CHIEF, True),
    ("closed", "release_data", (Role.DESIGNEE,), True),
    ("closed", "release_data", (Role.ADMIN,), False),
    ("closed", "release_data", (Role.OPERATOR,), False),
    ("closed", "release_data", (Role.RECORDS,), False),
    ("retained", "release_data", CHIEF, True),
    ("retained", "release_data", (Role.ADMIN,), False),
    ("retained", "retain", CHIEF, False),
    ("released", "release_data", CHIEF, False),
    ("released", "retain", CHIEF, False),
    ("active", "release_data", CHIEF, False),
    ("active", "retain", CHIEF, False),
    ("released", "reopen", CHIEF, True),
    ("retained", "reopen", (Role.ADMIN,), True),
    ("retained", "reopen", (Role.OPERATOR,), False),
]
DISPOSED = {"retain": "retained", "release_data": "released", "reopen": "active"}


def _case(state: str, **fields) -> Investigation:
    return Investigation(
        case_number="X", title="t", status=state, opened_on=local_today(), **fields
    )


@pytest.mark.parametrize(("state", "event", "roles", "allowed"), DISPOSITIONS)
def test_only_the_deputy_chief_or_designee_dispose(state, event, roles, allowed):
    case = _case(state)
    machine = InvestigationMachine.around(case)
    inputs = {
        "actor": person(*roles),
        "reason": "stated",
        "schedule_category": "felony",
        "retain_until": local_today() + timedelta(days=30),
    }
    if allowed:
        machine.fire(event, **inputs)
        assert case.status == DISPOSED[event]
    else:
        with pytest.raises(WorkflowError):
            machine.fire(event, **inputs)
        assert case.status == state


def test_system_actors_never_dispose():
    for event in ("retain", "release_data"):
        case = _case("closed")
        with pytest.raises(WorkflowError, match="Only the Deputy Chief or the designee"):
            InvestigationMachine.around(case).fire(
                event,
                actor="system:purge",
                schedule_category="felony",
                retain_until=local_today() + timedelta(days=30),
            )
        assert case.status == "closed"


@pytest.mark.parametrize(
    ("missing", "field"),
    [({"schedule_category": " "}, "schedule_category"), ({"retain_until": None}, "retain_until")],
)
def test_keeping_needs_a_category_and_an_end_date(missing, field):
    case = _case("closed")
    inputs = {"schedule_category": "felony", "retain_until": local_today(), **missing}
    with pytest.raises(WorkflowError) as refused:
        InvestigationMachine.around(case).fire("retain", actor=person(*CHIEF), **inputs)
    assert refused.value.field == field and case.status == "closed"


@pytest.mark.parametrize(("ends_in_days", "lapses"), [(1, False), (0, True), (-3, True)])
def test_a_schedule_lapses_on_its_end_date_whoever_notices(ends_in_days, lapses):
    end = local_today() + timedelta(days=ends_in_days)
    case = _case("retained", schedule_category="felony", retain_until=end)
    machine = InvestigationMachine.around(case)
    if lapses:
        machine.fire("lapse", actor="system:purge", today=local_today())
        assert case.status == "released"
    else:
        with pytest.raises(WorkflowError, match="until its end date"):
            machine.fire("lapse", actor="system:purge", today=local_today())
        assert case.status == "retained"


def test_the_disposition_is_offered_to_the_deputy_chief_and_designee_only():
    steps = {
        role: InvestigationMachine.around(_case("closed")).next_steps(person(role))
        for role in (Role.DEPUTY_CHIEF, Role.DESIGNEE, Role.ADMIN, Role.OPERATOR)
    }
    assert steps[Role.DEPUTY_CHIEF] == ["retain", "release_data", "reopen"]
    assert steps[Role.DESIGNEE] == ["retain", "release_data", "reopen"]
    assert steps[Role.ADMIN] == ["reopen"]
    assert steps[Role.OPERATOR] == []
    assert {"release_data"} == InvestigationMachine.IRREVERSIBLE


def test_system_actors_never_reopen():
    case = Investigation(case_number="X", title="t", status="closed", opened_on=local_today())
    with pytest.raises(WorkflowError, match="Deputy Chief"):
        InvestigationMachine.around(case).fire("reopen", reason="cron", actor="system:purge")


# --- services -------------------------------------------------------------------------------


def test_open_close_reopen_are_audited(session):
    operator = UserFactory(roles=[Role.OPERATOR])
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    case = open_investigation(
        session,
        operator,
        case_number=" 24-000123 ",
        title="Burglary ring",
        opened_on=local_today(),
        lead=operator,
    )
    assert case.case_number == "24-000123" and case.status == "active"
    close_investigation(session, operator, case, "Charged and convicted", local_today())
    assert (case.status, case.closed_on, case.closing_reason) == (
        "closed",
        local_today(),
        "Charged and convicted",
    )
    reopen_investigation(session, chief, case, "Appeal: new trial ordered")
    assert (case.status, case.closed_on, case.closing_reason) == ("active", None, None)
    session.commit()
    assert entry_details(session, AuditAction.INVESTIGATION_OPENED)[0]["lead_id"] == operator.id
    closed = entry_details(session, AuditAction.INVESTIGATION_CLOSED)[0]
    assert closed["reason"] == "Charged and convicted"
    reopened = entry_details(session, AuditAction.INVESTIGATION_REOPENED)[0]
    assert reopened["reason"] == "Appeal: new trial ordered"
    assert reopened["previous"]["closing_reason"] == "Charged and convicted"


def test_case_numbers_are_unique_whatever_the_letter_case(session):
    InvestigationFactory(case_number="24-ABC")
    with pytest.raises(Refusal, match="already registered"):
        open_investigation(session, "cli", case_number="24-abc", title="t", opened_on=local_today())


@pytest.mark.parametrize(
    ("case_number", "title", "message"),
    [
        ("", "t", "case number is required"),
        ("24-1", " ", "title is required"),
        ("9" * 65, "t", "at most"),
    ],
)
def test_open_refuses_bad_input(session, case_number, title, message):
    with pytest.raises(Refusal, match=message):
        open_investigation(
            session, "cli", case_number=case_number, title=title, opened_on=local_today()
        )


def test_close_refusals_change_nothing(session):
    case = InvestigationFactory(opened_on=local_today())
    with pytest.raises(Refusal, match="reason"):
        close_investigation(session, "cli", case, "", local_today())
    with pytest.raises(Refusal, match="before it opened"):
        close_investigation(session, "cli", case, "done", local_today() - timedelta(days=1))
    with pytest.raises(Refusal, match="is in the future") as future:
        close_investigation(session, "cli", case, "done", local_today() + timedelta(days=1))
    assert future.value.field == "closed_on"
    assert case.status == "active" and case.closed_on is None
    close_investigation(session, "cli", case, "done", local_today())
    with pytest.raises(Refusal, match=r"closed \(awaiting disposition\) cannot"):
        close_investigation(session, "cli", case, "done again", local_today())


def test_reopen_by_operator_is_refused(session):
    case = InvestigationFactory(status="closed", closed_on=local_today(), closing_reason="done")
    with pytest.raises(Refusal, match="Only the Deputy Chief"):
        reopen_investigation(session, UserFactory(roles=[Role.OPERATOR]), case, "please")
    assert case.status == "closed"


# --- pages ----------------------------------------------------------------------------------


def test_operator_opens_and_closes_through_the_pages(client, session, login_as):
    login_as(Role.OPERATOR)
    token = form_csrf(client, "/investigations/new")
    response = client.post(
        "/investigations/new",
        data={
            "csrf_token": token,
            "case_number": "24-777",
            "title": "Stolen trailers",
            "opened_on": local_today().isoformat(),
            "lead_id": "0",
        },
    )
    assert response.status_code == 302
    session.rollback()
    case = session.scalars(select(Investigation).where(Investigation.case_number == "24-777")).one()
    detail = f"/investigations/{case.id}"
    assert "Stolen trailers" in client.get("/investigations").get_data(as_text=True)

    token = form_csrf(client, detail)
    missing = client.post(
        f"{detail}/close",
        data={"csrf_token": token, "reason": "", "closed_on": local_today().isoformat()},
    )
    assert missing.status_code == 422 and "This field is required" in missing.get_data(as_text=True)
    done = client.post(
        f"{detail}/close",
        data={
            "csrf_token": token,
            "reason": "Suspect convicted",
            "closed_on": local_today().isoformat(),
        },
    )
    assert done.status_code == 302
    assert reload(session, case).status == "closed"
    assert "Reopen this investigation" not in client.get(detail).get_data(as_text=True)
    assert (
        client.post(f"{detail}/reopen", data={"csrf_token": token, "reason": "x"}).status_code
        == 403
    )


def test_impossible_dates_are_shown_at_their_fields(client, session, login_as):
    login_as(Role.OPERATOR)
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    token = form_csrf(client, "/investigations/new")
    opened = client.post(
        "/investigations/new",
        data={
            "csrf_token": token,
            "case_number": "24-888",
            "title": "Future case",
            "opened_on": tomorrow,
            "lead_id": "0",
        },
    )
    page = opened.get_data(as_text=True)
    assert opened.status_code == 422
    assert re.search(r'id="opened_on-err"[^>]*>[^<]*is in the future', page), page
    assert 'value="Future case"' in page
    case = InvestigationFactory(opened_on=local_today())
    session.commit()
    closed = client.post(
        f"/investigations/{case.id}/close",
        data={"csrf_token": token, "reason": "Suspect convicted", "closed_on": tomorrow},
    )
    page = closed.get_data(as_text=True)
    assert closed.status_code == 422
    assert re.search(r'id="closed_on-err"[^>]*>[^<]*is in the future', page), page
    assert "Suspect convicted" in page
    assert reload(session, case).status == "active"


def test_duplicate_case_number_is_a_form_error(client, session, login_as):
    InvestigationFactory(case_number="24-1")
    login_as(Role.OPERATOR)
    token = form_csrf(client, "/investigations/new")
    response = client.post(
        "/investigations/new",
        data={
            "csrf_token": token,
            "case_number": "24-1",
            "title": "Dup",
            "opened_on": local_today().isoformat(),
            "lead_id": "0",
        },
    )
    assert response.status_code == 422 and "already registered" in response.get_data(as_text=True)


def test_deputy_chief_reopens_through_the_page(client, session, login_as):
    case = InvestigationFactory(status="closed", closed_on=local_today(), closing_reason="done")
    login_as(Role.DEPUTY_CHIEF)
    detail = f"/investigations/{case.id}"
    token = form_csrf(client, detail)
    assert (
        client.post(
            f"{detail}/reopen", data={"csrf_token": token, "reason": "New lead"}
        ).status_code
        == 302
    )
    assert reload(session, case).status == "active"
    assert entry_details(session, AuditAction.INVESTIGATION_REOPENED)[0]["reason"] == "New lead"


@pytest.mark.parametrize(
    ("roles", "trained", "list_status", "new_status"),
    [
        ((Role.RECORDS,), True, 200, 403),
        ((Role.RECORDS,), False, 403, 403),
        ((Role.OPERATOR,), False, 403, 403),
        ((Role.AUDITOR,), True, 403, 403),
        ((Role.AGENCY,), False, 403, 403),
    ],
)
def test_registry_roles(client, session, login_as, roles, trained, list_status, new_status):
    fields = {"agency": AgencyFactory()} if Role.AGENCY in roles else {}
    login_as(*roles, trained=trained, **fields)
    assert client.get("/investigations").status_code == list_status
    assert client.get("/investigations/new").status_code == new_status


def test_anonymous_is_sent_to_login(client, session):
    response = client.get("/investigations")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
