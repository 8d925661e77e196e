"""Breach incidents (425.6(d), § 13.055): report, investigate, notify individuals, complete report.

Every transition and every guard of BreachMachine, allowed and refused (with the field); two
steps at once on PostgreSQL; who reaches the pages; bad input answered 422 at its field with
nothing saved; a form sent twice is one incident or one step.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.auth.models import Role, User, UserRole
from app.breaches.models import BreachIncident
from app.breaches.services import (
    breach_history,
    complete_breach_report,
    list_for_period,
    record_breach_notification,
    report_breach,
    start_breach_investigation,
)
from app.breaches.workflow import BreachMachine
from app.core.refusal import Refusal
from app.core.timeutil import display_zone, local_today
from app.db import utcnow
from app.workflow.machine import WorkflowError
from tests.conftest import BACKEND
from tests.factories import AgencyFactory, BreachIncidentFactory, UserFactory
from tests.helpers import (
    count_rows,
    entries,
    entry_details,
    field_error,
    form_csrf,
    login,
    when_run,
)


def notice_inputs() -> dict[str, object]:
    """A valid notification, dated today (taken when the test runs, not at import)."""
    return {
        "findings": "Two exports were copied by a former contractor.",
        "notified_on": local_today(),
        "notification_method": "written",
        "individuals_notified": 12,
    }


def report_inputs() -> dict[str, object]:
    """A valid report, completed today (taken when the test runs, not at import)."""
    return {
        "report_summary": "Facts and results: access revoked.",
        "report_completed_on": local_today(),
    }


def person(*roles: Role) -> User:
    """An unsaved user: the machine needs only the roles."""
    return User(email="x@example.test", name="X", role_rows=[UserRole(role=r.value) for r in roles])


def reload(session, incident: BreachIncident) -> BreachIncident:
    session.rollback()  # see what requests committed
    return session.get(BreachIncident, incident.id, populate_existing=True)


def at(state: str, **fields) -> BreachIncident:
    """An incident in `state` with what the earlier steps recorded."""
    today = local_today()
    order = ["reported", "investigating", "individuals_notified", "report_completed"]
    reached = order.index(state)
    notified = {
        "notified_on": today - timedelta(days=1),
        "notification_method": "electronic",
        "individuals_notified": 3,
        "findings": "found",
    }
    return BreachIncidentFactory(
        status=state,
        investigation_started_at=utcnow() if reached >= 1 else None,
        **(notified if reached >= 2 else {}),
        **fields,
    )


# --- the machine: every transition, allowed and refused -----------------------------------

CHIEF = person(Role.DEPUTY_CHIEF)
DESIGNEE = person(Role.DESIGNEE)
TRANSITIONS = [
    # (from, event, actor, allowed)
    ("reported", "investigate", CHIEF, True),
    ("reported", "investigate", DESIGNEE, True),
    ("reported", "investigate", person(Role.ADMIN), False),
    ("reported", "investigate", person(Role.OPERATOR), False),
    ("reported", "investigate", person(Role.AUDITOR), False),
    ("reported", "notify", CHIEF, False),
    ("reported", "complete_report", CHIEF, False),
    ("investigating", "notify", CHIEF, True),
    ("investigating", "notify", DESIGNEE, True),
    ("investigating", "notify", person(Role.RECORDS), False),
    ("investigating", "investigate", CHIEF, False),
    ("investigating", "complete_report", CHIEF, False),
    ("individuals_notified", "complete_report", CHIEF, True),
    ("individuals_notified", "complete_report", DESIGNEE, True),
    ("individuals_notified", "complete_report", person(Role.ADMIN), False),
    ("individuals_notified", "notify", CHIEF, False),
    ("report_completed", "investigate", CHIEF, False),
    ("report_completed", "notify", CHIEF, False),
    ("report_completed", "complete_report", CHIEF, False),
]


@pytest.mark.parametrize(("state", "event", "actor", "allowed"), TRANSITIONS)
def test_breach_machine(session, state, event, actor, allowed):
    incident = at(state)
    machine = BreachMachine.around(incident)
    inputs = {**notice_inputs(), **report_inputs()}
    if allowed:
        machine.fire(event, actor=actor, **inputs)
        assert incident.status == machine.current_state.value != state
    else:
        with pytest.raises(WorkflowError):
            machine.fire(event, actor=actor, **inputs)
        assert incident.status == state


def test_next_steps_are_the_chiefs_alone(session):
    assert BreachMachine.around(at("reported")).next_steps(CHIEF) == ["investigate"]
    assert BreachMachine.around(at("investigating")).next_steps(DESIGNEE) == ["notify"]
    assert BreachMachine.around(at("individuals_notified")).next_steps(CHIEF) == ["complete_report"]
    assert BreachMachine.around(at("report_completed")).next_steps(CHIEF) == []
    for role in (Role.ADMIN, Role.AUDITOR, Role.OPERATOR):
        assert BreachMachine.around(at("reported")).next_steps(person(role)) == []


# --- each guard, refused at its field, nothing changed ------------------------------------

NOTIFY_GUARDS = [
    # (inputs, field, message part)
    ({"findings": "  "}, "findings", "findings"),
    ({"notified_on": None}, "notified_on", "Enter the date"),
    ({"notified_on": lambda: local_today() + timedelta(days=1)}, "notified_on", "in the future"),
    (
        {"notified_on": lambda: local_today() - timedelta(days=30)},
        "notified_on",
        "before the breach",
    ),
    ({"notification_method": "carrier pigeon"}, "notification_method", "how the individuals"),
    ({"notification_method": None}, "notification_method", "how the individuals"),
    ({"individuals_notified": 0}, "individuals_notified", "how many"),
    ({"individuals_notified": None}, "individuals_notified", "how many"),
    ({"individuals_notified": 10**12}, "individuals_notified", "how many"),
]


@pytest.mark.parametrize(("changed", "field", "message"), NOTIFY_GUARDS)
def test_notification_guards(session, changed, field, message):
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    incident = at("investigating", discovered_at=utcnow() - timedelta(days=3))
    before = len(entries(session, AuditAction.BREACH_INDIVIDUALS_NOTIFIED))
    with pytest.raises(WorkflowError, match=message) as refused:
        record_breach_notification(
            session, chief, incident, **{**notice_inputs(), **when_run(changed)}
        )
    assert refused.value.field == field
    session.rollback()
    assert reload(session, incident).status == "investigating"
    assert reload(session, incident).notified_on is None
    assert len(entries(session, AuditAction.BREACH_INDIVIDUALS_NOTIFIED)) == before


REPORT_GUARDS = [
    ({"report_summary": ""}, "report_summary", "Summarise"),
    ({"report_completed_on": None}, "report_completed_on", "Enter the date"),
    (
        {"report_completed_on": lambda: local_today() + timedelta(days=2)},
        "report_completed_on",
        "future",
    ),
    (
        {"report_completed_on": lambda: local_today() - timedelta(days=2)},
        "report_completed_on",
        "before",
    ),
]


@pytest.mark.parametrize(("changed", "field", "message"), REPORT_GUARDS)
def test_report_guards(session, changed, field, message):
    chief = UserFactory(roles=[Role.DESIGNEE])
    incident = at("individuals_notified")  # notified yesterday
    with pytest.raises(WorkflowError, match=message) as refused:
        complete_breach_report(session, chief, incident, **{**report_inputs(), **when_run(changed)})
    assert refused.value.field == field
    session.rollback()
    assert reload(session, incident).status == "individuals_notified"


def test_permission_guards_name_no_field(session):
    admin = UserFactory(roles=[Role.ADMIN])
    with pytest.raises(WorkflowError, match="Only the Deputy Chief") as refused:
        start_breach_investigation(session, admin, at("reported"))
    assert refused.value.field is None


# --- the whole path through the services --------------------------------------------------


def test_the_whole_path_is_audited_and_on_the_timeline(session):
    today = local_today()
    operator = UserFactory(roles=[Role.OPERATOR])
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    incident = report_breach(
        session,
        operator,
        discovered_at=utcnow() - timedelta(hours=3),
        description="A laptop with an export was stolen.",
        data_involved="ALPR export of one week",
    )
    start_breach_investigation(session, chief, incident)
    record_breach_notification(session, chief, incident, **notice_inputs())
    complete_breach_report(session, chief, incident, **report_inputs())
    session.commit()

    incident = reload(session, incident)
    assert incident.status == "report_completed"
    assert incident.reported_by_id == operator.id
    assert (incident.individuals_notified, incident.notification_method) == (12, "written")
    assert [e.label for e in breach_history(session, incident)] == [
        "Breach reported",
        "Investigation started",
        "Individuals notified",
        "Report completed",
    ]
    notice = entry_details(session, AuditAction.BREACH_INDIVIDUALS_NOTIFIED)[0]
    assert (notice["from"], notice["to"]) == ("investigating", "individuals_notified")
    assert notice["individuals_notified"] == 12
    assert list_for_period(session, today - timedelta(days=1), today) == [incident]
    assert list_for_period(session, today - timedelta(days=9), today - timedelta(days=5)) == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"description": " "}, "description"),
        ({"description": "x" * 10_000}, "description"),
        ({"data_involved": ""}, "data_involved"),
        ({"unauthorised_person": "y" * 5000}, "unauthorised_person"),
        ({"discovered_at": lambda: utcnow() + timedelta(days=1)}, "discovered_at"),
    ],
)
def test_report_refuses_bad_input(session, fields, field):
    args = {
        "discovered_at": utcnow(),
        "description": "What happened",
        "data_involved": "Reads",
        **when_run(fields),
    }
    with pytest.raises(Refusal) as refused:
        report_breach(session, UserFactory(), **args)
    assert refused.value.field == field
    session.rollback()
    assert count_rows(session, BreachIncident) == 0


# --- two steps at once: one winner, one clear refusal (PostgreSQL) ------------------------


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite serialises writers: no two at once")
def test_two_chiefs_investigating_at_once(app, session):
    chief, designee = (UserFactory(roles=[role]) for role in (Role.DEPUTY_CHIEF, Role.DESIGNEE))
    incident = at("reported")
    factory = app.extensions["alpr_sessionmaker"]
    refused: list[str] = []

    def take(s: Session, who: User) -> None:
        start_breach_investigation(s, s.get(User, who.id), s.get(BreachIncident, incident.id))

    def meanwhile() -> None:
        with app.app_context(), factory() as other:
            try:
                take(other, designee)
                other.commit()
            except WorkflowError as exc:
                refused.append(str(exc))

    with factory() as mine:
        take(mine, chief)
        worker = threading.Thread(target=meanwhile)
        worker.start()
        worker.join(timeout=1)
        assert worker.is_alive(), "the second step did not wait for the row lock"
        mine.commit()
    worker.join(timeout=30)
    assert not worker.is_alive()

    assert refused == [
        "A breach incident that is investigating cannot take the 'start investigation' step."
    ]
    assert reload(session, incident).status == "investigating"
    started = entries(session, AuditAction.BREACH_INVESTIGATION_STARTED)
    assert [e.actor_user_id for e in started] == [chief.id]


# --- the pages -------------------------------------------------------------------------------


def report_form(**fields) -> dict:
    return {
        "discovered_at": (utcnow() - timedelta(hours=2))
        .astimezone(display_zone())
        .strftime("%Y-%m-%dT%H:%M"),
        "description": "Printed read list left at a public counter.",
        "data_involved": "Reads of 40 plates",
        "unauthorised_person": "",
        "submission_key": "k-1",
        **fields,
    }


def test_operator_reports_and_the_chief_takes_every_step(app, client, session, login_as):
    login_as(Role.OPERATOR)
    token = form_csrf(client, "/breaches/new")
    response = client.post("/breaches/new", data={**report_form(), "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/breaches/new")
    incident_id = session.scalars(select(BreachIncident.id)).one()
    session.rollback()  # end the read snapshot before the next writes
    assert client.get(f"/breaches/{incident_id}").status_code == 403

    client = app.test_client()
    assert (
        login(client, UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True).email).status_code == 302
    )
    page = f"/breaches/{incident_id}"
    token = form_csrf(client, page)
    html = client.get(page).get_data(as_text=True)
    assert 'data-step="investigate"' in html and 'data-step="notify"' not in html
    assert client.post(f"{page}/investigate", data={"csrf_token": token}).status_code == 302
    notice = {k: str(v) for k, v in notice_inputs().items()}
    assert client.post(f"{page}/notify", data={**notice, "csrf_token": token}).status_code == 302
    report = {k: str(v) for k, v in report_inputs().items()}
    unconfirmed = client.post(f"{page}/complete-report", data={**report, "csrf_token": token})
    assert unconfirmed.status_code == 422, "completing the report cannot be undone: it asks first"
    assert 'id="confirm_irreversible-err"' in unconfirmed.get_data(as_text=True)
    done = client.post(
        f"{page}/complete-report",
        data={**report, "csrf_token": token, "confirm_irreversible": "y"},
    )
    assert done.status_code == 302
    assert session.get(BreachIncident, incident_id).status == "report_completed"
    html = client.get(page).get_data(as_text=True)
    assert "data-step=" not in html
    assert "Report completed" in html and "12 individuals" in html


@pytest.mark.parametrize(
    ("fields", "field_id"),
    [
        ({"description": ""}, "description"),
        ({"description": "x" * 10_000}, "description"),
        ({"data_involved": ""}, "data_involved"),
        ({"discovered_at": "2026-13-45T10:00"}, "discovered_at"),
        ({"discovered_at": "1900-01-01T10:00"}, "discovered_at"),
        (
            {
                "discovered_at": lambda: (utcnow() + timedelta(days=2))
                .astimezone()
                .strftime("%Y-%m-%dT%H:%M")
            },
            "discovered_at",
        ),
    ],
)
def test_bad_report_is_422_at_its_field_and_saves_nothing(
    client, session, login_as, fields, field_id
):
    login_as(Role.RECORDS)
    token = form_csrf(client, "/breaches/new")
    response = client.post(
        "/breaches/new", data={**report_form(**when_run(fields)), "csrf_token": token}
    )
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field_id)
    assert count_rows(session, BreachIncident) == 0
    assert entries(session, AuditAction.BREACH_REPORTED) == []


def test_a_report_sent_twice_is_one_incident(client, session, login_as):
    login_as(Role.OPERATOR)
    token = form_csrf(client, "/breaches/new")
    for _ in range(2):
        sent = client.post("/breaches/new", data={**report_form(), "csrf_token": token})
        assert sent.status_code == 302
    assert count_rows(session, BreachIncident) == 1
    assert len(entries(session, AuditAction.BREACH_REPORTED)) == 1


def test_each_new_form_has_its_own_key(client, session, login_as):
    login_as(Role.OPERATOR)
    keys = [
        client.get("/breaches/new").get_data(as_text=True).split('id="submission_key"')[1][:60]
        for _ in range(2)
    ]
    assert keys[0] != keys[1]


@pytest.mark.parametrize(
    ("changed", "field_id"),
    [
        ({"findings": ""}, "findings"),
        ({"notified_on": lambda: (local_today() + timedelta(days=1)).isoformat()}, "notified_on"),
        ({"notified_on": lambda: (local_today() - timedelta(days=20)).isoformat()}, "notified_on"),
        ({"notified_on": "not a date"}, "notified_on"),
        ({"notification_method": ""}, "notification_method"),
        ({"individuals_notified": "0"}, "individuals_notified"),
        ({"individuals_notified": "many"}, "individuals_notified"),
        ({"findings": "f" * 5000}, "findings"),
    ],
)
def test_bad_notification_is_422_at_its_field_and_saves_nothing(
    client, session, login_as, changed, field_id
):
    login_as(Role.DESIGNEE)
    incident = at("investigating", discovered_at=utcnow() - timedelta(days=2))
    page = f"/breaches/{incident.id}"
    token = form_csrf(client, page)
    notice = {**{k: str(v) for k, v in notice_inputs().items()}, **when_run(changed)}
    response = client.post(f"{page}/notify", data={**notice, "csrf_token": token})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field_id)
    incident = reload(session, incident)
    assert (incident.status, incident.notified_on, incident.findings) == (
        "investigating",
        None,
        None,
    )
    assert entries(session, AuditAction.BREACH_INDIVIDUALS_NOTIFIED) == []


def test_a_step_sent_twice_is_one_step(client, session, login_as):
    login_as(Role.DEPUTY_CHIEF)
    incident = at("reported")
    page = f"/breaches/{incident.id}"
    token = form_csrf(client, page)
    assert client.post(f"{page}/investigate", data={"csrf_token": token}).status_code == 302
    again = client.post(f"{page}/investigate", data={"csrf_token": token})
    assert again.status_code == 422
    assert "cannot take the" in again.get_data(as_text=True)
    assert len(entries(session, AuditAction.BREACH_INVESTIGATION_STARTED)) == 1


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.RECORDS, Role.ADMIN, Role.AUDITOR])
def test_outsiders_are_refused_every_step_with_a_valid_token(client, session, login_as, role):
    login_as(role)
    incident = at("reported")
    token = form_csrf(client, "/breaches/new")
    for step, data in (
        ("investigate", {}),
        ("notify", notice_inputs()),
        ("complete-report", report_inputs()),
    ):
        sent = {**{k: str(v) for k, v in data.items()}, "csrf_token": token}
        assert client.post(f"/breaches/{incident.id}/{step}", data=sent).status_code == 403
    assert reload(session, incident).status == "reported"


@pytest.mark.parametrize(
    ("roles", "trained", "list_status", "new_status"),
    [
        ((Role.DEPUTY_CHIEF,), True, 200, 200),
        ((Role.AUDITOR,), True, 200, 200),
        ((Role.ADMIN,), True, 200, 200),
        ((Role.OPERATOR,), True, 403, 200),
        ((Role.RECORDS,), True, 403, 200),
        ((Role.OPERATOR,), False, 403, 403),
        ((Role.DEPUTY_CHIEF,), False, 403, 403),
        ((Role.AGENCY,), False, 403, 403),
    ],
)
def test_who_reaches_the_pages(client, session, login_as, roles, trained, list_status, new_status):
    fields = {"agency": AgencyFactory()} if Role.AGENCY in roles else {}
    login_as(*roles, trained=trained, **fields)
    incident = at("reported")
    assert client.get("/breaches").status_code == list_status
    assert client.get(f"/breaches/{incident.id}").status_code == list_status
    assert client.get("/breaches/new").status_code == new_status


def test_anonymous_is_sent_to_login(client, session):
    incident = at("reported")
    for path in ("/breaches", "/breaches/new", f"/breaches/{incident.id}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    token = form_csrf(client, "/login")  # the anonymous session's own, valid token
    response = client.post(f"/breaches/{incident.id}/investigate", data={"csrf_token": token})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert reload(session, incident).status == "reported"


def test_unknown_incident_is_404(client, session, login_as):
    login_as(Role.DEPUTY_CHIEF)
    assert client.get("/breaches/999").status_code == 404
