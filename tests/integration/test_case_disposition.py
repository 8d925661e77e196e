"""A closed case's held data (policy 425.5): kept until the Deputy Chief or designee decide,
then released to the 60-day rule or kept under a records-retention schedule category until an
end date, when it lapses; each step audited with the choice, and the purge follows it."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.auth.models import Role
from app.config import ScheduleCategory
from app.core.refusal import Refusal
from app.core.timeutil import local_today
from app.db import utcnow
from app.investigations.models import Investigation
from app.investigations.services import (
    close_investigation,
    lapse_ended_schedules,
    release_case_data,
    reopen_investigation,
    retain_case_data,
)
from app.retention.dashboard import retention_overview
from app.retention.holds import holds_in_force, holds_keeping, place_hold
from app.retention.models import Hold
from app.workflow.machine import WorkflowError
from tests.factories import InvestigationFactory, ReadFactory, UserFactory
from tests.helpers import (
    CONFIRMED,
    aged_read,
    entry_details,
    field_error,
    form_csrf,
    run_purge,
    surviving_ids,
)

SCHEDULE = (
    ScheduleCategory("felony", "Felony investigation file", 7),
    ScheduleCategory("misdemeanor", "Misdemeanor investigation file", 3),
)
PLATE = "HELD1"


def _closed_case(session, *, closed_on: date | None = None) -> tuple[Investigation, Hold, int]:
    """A closed case whose hold keeps one read 80 days old; returns the case, hold and read id."""
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    case = InvestigationFactory(opened_on=date(local_today().year - 2, 1, 1))
    read = aged_read(80, plate=PLATE)
    hold = place_hold(
        session,
        chief,
        case,
        utcnow() - timedelta(days=81),
        utcnow() - timedelta(days=79),
        plates=[PLATE],
    )
    close_investigation(session, "system:cli", case, "charges filed", closed_on or local_today())
    session.commit()
    return case, hold, read.id


def _count(session, action: AuditAction) -> int:
    session.rollback()
    return session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action.value)
    )


def _reload(session, case: Investigation) -> Investigation:
    session.rollback()  # end the read snapshot (SQLite WAL) to see what requests committed
    return session.get(Investigation, case.id, populate_existing=True)


# --- services: the close, the two dispositions, the lapse, reopening -------------------------


def test_a_closed_case_keeps_its_held_data_until_the_disposition(app, session):
    case, hold, read = _closed_case(session)

    assert (case.status, hold.status) == ("closed", "placed")
    assert holds_keeping(session) == [hold]
    assert holds_in_force(session) == [], "a closed case no longer defers ACP destruction"
    overview = retention_overview(session, utcnow(), 60, (0, 5))
    assert overview.overdue == 0 and overview.holds == [hold]
    run_purge(app)
    assert surviving_ids(session) == {read}


def test_releasing_ends_the_holds_with_the_decision_and_the_purge_then_destroys(app, session):
    case, hold, read = _closed_case(session)
    designee = UserFactory(roles=[Role.DESIGNEE])

    release_case_data(session, designee, case)
    assert (case.status, hold.status) == ("released", "released")
    session.rollback()  # one transaction: undone together
    assert (_reload(session, case).status, session.get(Hold, hold.id).status) == (
        "closed",
        "placed",
    )
    assert _count(session, AuditAction.INVESTIGATION_DATA_RELEASED) == 0

    release_case_data(session, designee, session.get(Investigation, case.id))
    session.commit()
    (entry,) = entry_details(session, AuditAction.INVESTIGATION_DATA_RELEASED)
    assert (entry["from"], entry["to"]) == ("closed", "released")
    assert entry["disposition"] == "released to the 60-day rule"
    (hold_entry,) = entry_details(session, AuditAction.HOLD_RELEASED)
    assert hold_entry["reason"] == f"Investigation {case.case_number} closed: its data released"
    run_purge(app)
    assert read not in surviving_ids(session)


def test_keeping_under_a_category_defaults_to_its_whole_period_from_the_close(app, session):
    year = local_today().year
    case, hold, read = _closed_case(session, closed_on=date(year - 1, 6, 15))
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])

    retain_case_data(session, chief, case, schedule=SCHEDULE, category="misdemeanor")
    session.commit()

    ends = date(year + 2, 6, 15)
    assert (case.status, case.schedule_category, case.retain_until) == (
        "retained",
        "misdemeanor",
        ends,
    )
    (entry,) = entry_details(session, AuditAction.INVESTIGATION_DATA_RETAINED)
    assert entry["schedule_category"] == "misdemeanor"
    assert entry["category_label"] == "Misdemeanor investigation file"
    assert (entry["period_years"], entry["retain_until"]) == (3, ends.isoformat())
    assert session.get(Hold, hold.id).status == "placed"
    run_purge(app)
    assert surviving_ids(session) == {read}


def test_kept_data_lapses_to_the_60_day_rule_at_the_first_purge_on_its_end_date(app, session):
    case, hold, read = _closed_case(session)
    end = local_today() + timedelta(days=2)
    retain_case_data(
        session,
        UserFactory(roles=[Role.DEPUTY_CHIEF]),
        case,
        schedule=SCHEDULE,
        category="felony",
        retain_until=end,
    )
    session.commit()

    before = run_purge(app, now=utcnow() + timedelta(days=1))
    assert before.schedules_lapsed == 0 and surviving_ids(session) == {read}
    assert _reload(session, case).status == "retained"

    on_the_day = run_purge(app, now=utcnow() + timedelta(days=2))
    assert on_the_day.schedules_lapsed == 1
    assert surviving_ids(session) == set()
    assert _reload(session, case).status == "released"
    assert session.get(Hold, hold.id).status == "released"
    (entry,) = entry_details(session, AuditAction.INVESTIGATION_RETENTION_LAPSED)
    assert (entry["from"], entry["to"], entry["retain_until"]) == (
        "retained",
        "released",
        end.isoformat(),
    )
    assert entry_details(session, AuditAction.PURGE_COMPLETED)[-1]["schedules_lapsed"] == 1


def test_the_lapse_takes_only_schedules_that_ended(session):
    ended, _, _ = _closed_case(session)
    running, _, _ = _closed_case(session)
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    for case, days in ((ended, 1), (running, 5)):
        retain_case_data(
            session,
            chief,
            case,
            schedule=SCHEDULE,
            category="felony",
            retain_until=local_today() + timedelta(days=days),
        )

    assert lapse_ended_schedules(session, "system:purge", local_today() + timedelta(days=1)) == 1
    assert (ended.status, running.status) == ("released", "retained")


def test_the_deputy_chief_may_release_kept_data_before_its_end_date(session):
    case, hold, _ = _closed_case(session)
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    retain_case_data(session, chief, case, schedule=SCHEDULE, category="felony")

    release_case_data(session, chief, case)
    session.commit()

    assert (case.status, hold.status) == ("released", "released")
    (entry,) = entry_details(session, AuditAction.INVESTIGATION_DATA_RELEASED)
    assert (entry["from"], entry["schedule_category"]) == ("retained", "felony")


@pytest.mark.parametrize(
    ("category", "retain_until", "field", "message"),
    [
        ("arson", None, "schedule_category", "Choose one of"),
        ("", None, "schedule_category", "Choose one of"),
        ("felony", 0, "retain_until", "must be after today"),
        ("felony", -1, "retain_until", "must be after today"),
        ("felony", 7 * 366, "retain_until", "at the latest"),
    ],
)
def test_bad_keeping_is_refused_at_its_field_and_changes_nothing(
    session, category, retain_until, field, message
):
    case, hold, _ = _closed_case(session)
    end = None if retain_until is None else local_today() + timedelta(days=retain_until)

    with pytest.raises(Refusal, match=message) as refused:
        retain_case_data(
            session,
            UserFactory(roles=[Role.DEPUTY_CHIEF]),
            case,
            schedule=SCHEDULE,
            category=category,
            retain_until=end,
        )

    assert refused.value.field == field
    assert (case.status, case.retain_until, hold.status) == ("closed", None, "placed")
    assert _count(session, AuditAction.INVESTIGATION_DATA_RETAINED) == 0


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN, Role.RECORDS])
def test_other_roles_are_refused_by_the_services(session, role):
    case, hold, _ = _closed_case(session)
    person = UserFactory(roles=[role])

    with pytest.raises(WorkflowError, match="Only the Deputy Chief or the designee"):
        release_case_data(session, person, case)
    with pytest.raises(WorkflowError, match="Only the Deputy Chief or the designee"):
        retain_case_data(session, person, case, schedule=SCHEDULE, category="felony")

    assert (case.status, hold.status) == ("closed", "placed")


def test_an_active_case_has_no_disposition(session):
    case = InvestigationFactory()
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    with pytest.raises(WorkflowError, match="that is active cannot take"):
        release_case_data(session, chief, case)
    with pytest.raises(WorkflowError, match="that is active cannot take"):
        retain_case_data(session, chief, case, schedule=SCHEDULE, category="felony")
    assert case.status == "active"


def test_reopening_a_kept_case_holds_its_data_again(app, session):
    case, hold, read = _closed_case(session)
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    retain_case_data(session, chief, case, schedule=SCHEDULE, category="felony")

    reopen_investigation(session, chief, case, "Appeal: new trial ordered")
    session.commit()

    assert (case.status, case.schedule_category, case.retain_until) == ("active", None, None)
    assert holds_in_force(session) == [hold]
    previous = entry_details(session, AuditAction.INVESTIGATION_REOPENED)[0]["previous"]
    assert previous["schedule_category"] == "felony"
    run_purge(app)
    assert surviving_ids(session) == {read}


def test_reopening_a_released_case_brings_back_nothing_the_purge_destroyed(app, session):
    case, hold, read = _closed_case(session)
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    still_stored = aged_read(10, plate=PLATE).id
    release_case_data(session, chief, case)
    session.commit()
    run_purge(app)

    case = session.get(Investigation, case.id)
    reopen_investigation(session, chief, case, "New evidence")
    session.commit()

    assert session.get(Hold, hold.id).status == "released"
    assert holds_keeping(session) == []
    place_hold(session, chief, case, utcnow() - timedelta(days=90), utcnow(), plates=[PLATE])
    session.commit()
    run_purge(app, now=utcnow() + timedelta(days=60))
    assert surviving_ids(session) == {still_stored}, "what is still stored can be held again"
    assert read not in surviving_ids(session)


def test_a_closed_case_does_not_defer_an_acp_participants_destruction(app, session):
    """425.5(b) defers destruction for an *active* investigation only."""
    _closed_case(session)
    deferred = ReadFactory(
        plate=PLATE,
        captured_at=utcnow() - timedelta(days=80, hours=1),
        acp_deferred_at=utcnow(),
    ).id
    kept = set(surviving_ids(session)) - {deferred}

    result = run_purge(app)

    assert result.acp_deferred_destroyed == 1
    assert surviving_ids(session) == kept


# --- pages ------------------------------------------------------------------------------------


def _post(client, path: str, data: dict):
    token = form_csrf(client, path.rsplit("/", 1)[0])
    return client.post(path, data={"csrf_token": token, **data})


def test_the_deputy_chief_keeps_data_under_the_schedule_through_the_case_page(
    client, session, login_as
):
    case, _, _ = _closed_case(session)
    login_as(Role.DEPUTY_CHIEF)
    page = f"/investigations/{case.id}"
    html = client.get(page).get_data(as_text=True)
    assert "Keep under the schedule" in html and "Release to the 60-day rule" in html
    assert "I understand this cannot be undone" in html
    assert "Felony investigation file (7 years)" in html

    response = _post(client, f"{page}/retain", {"schedule_category": "felony", "retain_until": ""})

    assert response.status_code == 302
    ends = local_today().replace(year=local_today().year + 7)
    assert _reload(session, case).retain_until == ends
    html = client.get(page).get_data(as_text=True)
    assert re.search(rf'data-testid="retain-until">{ends.isoformat()}<', html)
    assert "Felony investigation file" in html
    assert "Data kept under the schedule (Felony investigation file, until" in html
    assert "Keep under the schedule" not in html, "the choice is made"
    assert "Release to the 60-day rule" in html, "kept data may still be released early"


def test_releasing_through_the_page_needs_the_confirmation(client, session, login_as):
    case, _, _ = _closed_case(session)
    login_as(Role.DESIGNEE)
    path = f"/investigations/{case.id}/release-data"

    unticked = _post(client, path, {})
    assert unticked.status_code == 422
    assert "Tick the box" in field_error(unticked.get_data(as_text=True), "confirm_irreversible")
    assert _reload(session, case).status == "closed"

    assert _post(client, path, CONFIRMED).status_code == 302
    assert _reload(session, case).status == "released"
    html = client.get(f"/investigations/{case.id}").get_data(as_text=True)
    assert "Closed (data released)" in html
    assert "Data released to the 60-day rule" in html


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN])
def test_other_roles_see_no_disposition_and_are_refused(client, session, login_as, role):
    case, _, _ = _closed_case(session)
    login_as(role)
    page = f"/investigations/{case.id}"
    html = client.get(page).get_data(as_text=True)
    assert "Keep under the schedule" not in html and "Release to the 60-day rule" not in html
    assert "Awaiting the Deputy Chief" in html
    assert 'data-testid="awaiting-disposition"' not in client.get("/investigations").get_data(
        as_text=True
    )

    retain = _post(client, f"{page}/retain", {"schedule_category": "felony"})
    release = _post(client, f"{page}/release-data", CONFIRMED)

    assert (retain.status_code, release.status_code) == (403, 403)
    assert _reload(session, case).status == "closed"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"schedule_category": "arson"}, "schedule_category", "Not a valid choice"),
        ({"schedule_category": "felony\x00"}, "schedule_category", "Not a valid choice"),
        ({"schedule_category": "  "}, "schedule_category", ""),
        ({"schedule_category": "felony", "retain_until": "yesterday"}, "retain_until", ""),
        ({"schedule_category": "felony", "retain_until": "99999-01-01"}, "retain_until", ""),
        ({"schedule_category": "felony", "retain_until": "2001-01-01"}, "retain_until", "after"),
        ({"schedule_category": "felony", "retain_until": "2100-01-01"}, "retain_until", "latest"),
    ],
)
def test_bad_input_is_a_422_at_its_field_and_nothing_is_saved(
    client, session, login_as, data, field, message
):
    case, _, _ = _closed_case(session)
    login_as(Role.DEPUTY_CHIEF)

    response = _post(client, f"/investigations/{case.id}/retain", data)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = field_error(html, field)
    assert error is not None and message in error, html
    assert _reload(session, case).status == "closed"
    assert _count(session, AuditAction.INVESTIGATION_DATA_RETAINED) == 0


@pytest.mark.parametrize("case_id", [2**31, 2**63, 10**30])
def test_ids_no_case_can_have_are_404(client, session, login_as, case_id):
    login_as(Role.DEPUTY_CHIEF)
    token = form_csrf(client, "/investigations/new")
    for step in ("retain", "release-data"):
        response = client.post(f"/investigations/{case_id}/{step}", data={"csrf_token": token})
        assert response.status_code == 404


def test_the_deputy_chief_sees_the_cases_awaiting_disposition(client, session, login_as):
    waiting, _, _ = _closed_case(session, closed_on=local_today() - timedelta(days=3))
    decided, _, _ = _closed_case(session)
    chief = login_as(Role.DEPUTY_CHIEF)
    retain_case_data(session, chief, decided, schedule=SCHEDULE, category="felony")
    session.commit()

    html = client.get("/investigations").get_data(as_text=True)
    section = html.split('data-testid="awaiting-disposition"')[1].split("</section>")[0]

    assert waiting.case_number in section and "3 days" in section
    assert decided.case_number not in section


def test_the_retention_dashboard_names_the_closed_case_a_hold_keeps_data_for(
    client, session, login_as
):
    case, _, _ = _closed_case(session)
    login_as(Role.DEPUTY_CHIEF)
    html = client.get("/retention/").get_data(as_text=True)
    badge = '<span class="badge">Closed (awaiting disposition)</span>'
    assert f"Case {case.case_number}</a> {badge}" in html
