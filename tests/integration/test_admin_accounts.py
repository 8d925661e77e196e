"""Account administration rules: one administrator always remains, the Deputy Chief or
designee alone grants department roles and the Deputy Chief alone the Deputy Chief's and
designee roles (425.3), nobody adds roles to themselves."""

from __future__ import annotations

import threading
import warnings
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.accounts import create_user, set_active, set_roles
from app.auth.errors import AccountError
from app.auth.forms import RolesForm, UserCreateForm
from app.auth.models import ROLE_LABELS, Agency, Role, User
from app.auth.training import MAX_TRAINING_VALIDITY_YEARS, record_training
from app.core.timeutil import local_today
from app.db import unit_of_work
from tests.factories import AgencyFactory, UserFactory
from tests.helpers import (
    AUTHORISATION_OPTIONS,
    CONFIRMED,
    authorisation_fields,
    field_error,
    form_csrf,
    written_authorisation,
)


def roles_of(session, user_id: int) -> set[Role]:
    session.rollback()  # see what the requests committed
    session.expire_all()
    roles = session.get(User, user_id).roles
    session.commit()  # release SQLite's write lock for the next request, expiring nothing
    return roles


def role_changes(session) -> int:
    session.rollback()
    found = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "user.roles_changed")
    ).all()
    session.commit()
    return len(found)


def post_roles(client: FlaskClient, user_id: int, roles: list[str]):
    token = form_csrf(client, f"/admin/users/{user_id}")
    return client.post(
        f"/admin/users/{user_id}/roles",
        data={"csrf_token": token, "roles": roles, **authorisation_fields()},
    )


def refused(response, message: str) -> bool:
    return response.status_code == 422 and message in response.get_data(as_text=True)


# --- the last account administrator -------------------------------------------------------


def test_a_sole_deputy_chief_cannot_give_up_administering_accounts(client, session, login_as):
    chief = login_as(Role.DEPUTY_CHIEF, Role.OPERATOR)
    response = post_roles(client, chief.id, ["operator"])
    assert refused(response, "is the last active")
    assert roles_of(session, chief.id) == {Role.DEPUTY_CHIEF, Role.OPERATOR}
    assert role_changes(session) == 0
    assert client.get("/admin/users").status_code == 200


def test_a_deputy_chief_may_step_down_while_an_administrator_remains(client, session, login_as):
    chief = login_as(Role.DEPUTY_CHIEF, Role.OPERATOR)
    UserFactory(roles=[Role.ADMIN])
    assert post_roles(client, chief.id, ["operator"]).status_code == 302
    assert roles_of(session, chief.id) == {Role.OPERATOR}
    assert client.get("/admin/users").status_code == 403  # signed in, as an operator now


def test_a_deactivated_administrator_does_not_count(session):
    last = UserFactory(roles=[Role.ADMIN])
    UserFactory(roles=[Role.ADMIN], is_active_account=False)
    with pytest.raises(AccountError, match="last active"):
        set_roles(session, "cli:users", last, ["operator"], written_authorisation())
    session.rollback()
    with pytest.raises(AccountError, match="last active"):
        set_active(session, "cli:users", last, False)
    assert roles_of(session, last.id) == {Role.ADMIN}
    session.expire_all()
    assert session.get(User, last.id).is_active_account
    session.rollback()


def test_the_last_administrator_cannot_be_deactivated(client, session, login_as):
    login_as(Role.DEPUTY_CHIEF)
    admin = UserFactory(roles=[Role.ADMIN])
    token = form_csrf(client, f"/admin/users/{admin.id}")
    response = client.post(
        f"/admin/users/{admin.id}/deactivate", data={"csrf_token": token, **CONFIRMED}
    )
    assert response.status_code == 302  # the Deputy Chief remains
    session.expire_all()
    assert session.get(User, admin.id).is_active_account is False
    session.rollback()


def test_two_deputy_chiefs_removing_each_other_at_once_leave_one(app, session):
    first = UserFactory(roles=[Role.DEPUTY_CHIEF])
    second = UserFactory(roles=[Role.DEPUTY_CHIEF])
    ids = {first.id: second.id, second.id: first.id}
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(actor_id: int) -> None:
        barrier.wait()
        with app.app_context():
            try:
                with unit_of_work() as work:
                    actor = work.get(User, actor_id)
                    target = work.get(User, ids[actor_id])
                    set_roles(work, actor, target, ["operator"], written_authorisation())
            except AccountError:
                outcomes.append("refused")
            else:
                outcomes.append("done")

    threads = [threading.Thread(target=demote, args=(actor_id,)) for actor_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["done", "refused"]
    session.expire_all()
    chiefs = [u for u in session.scalars(select(User)) if u.has_role(Role.DEPUTY_CHIEF)]
    assert len(chiefs) == 1
    assert role_changes(session) == 1


# --- who may grant which roles ------------------------------------------------------------


@pytest.mark.parametrize("extra", ["deputy_chief", "designee", "operator"])
def test_nobody_adds_roles_to_their_own_account(client, session, login_as, extra):
    admin = login_as(Role.ADMIN, Role.DEPUTY_CHIEF)
    response = post_roles(client, admin.id, ["admin", "deputy_chief", extra])
    if extra == "deputy_chief":
        assert response.status_code == 302  # no change at all
    else:
        assert refused(response, "You cannot add roles to your own account.")
    assert roles_of(session, admin.id) == {Role.ADMIN, Role.DEPUTY_CHIEF}
    assert role_changes(session) == 0


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (["operator"], ["operator", "designee"]),
        (["operator"], ["deputy_chief"]),
        (["operator", "designee"], ["operator"]),
        (["deputy_chief"], ["operator"]),
    ],
)
def test_a_designee_cannot_grant_or_remove_the_deputy_chiefs_roles(
    client, session, login_as, before, after
):
    login_as(Role.DESIGNEE)
    other = UserFactory(roles=before)
    response = post_roles(client, other.id, after)
    assert refused(response, "Only a Deputy Chief may grant or remove")
    assert roles_of(session, other.id) == {Role(r) for r in before}
    assert role_changes(session) == 0


def test_a_deputy_chief_assigns_designees(client, session, login_as):
    login_as(Role.DEPUTY_CHIEF)
    other = UserFactory(roles=[Role.OPERATOR])
    assert post_roles(client, other.id, ["operator", "designee"]).status_code == 302
    assert roles_of(session, other.id) == {Role.OPERATOR, Role.DESIGNEE}
    assert post_roles(client, other.id, ["operator"]).status_code == 302
    assert roles_of(session, other.id) == {Role.OPERATOR}


def test_an_administrator_is_not_offered_department_roles_for_a_new_account(
    client, session, login_as
):
    login_as(Role.ADMIN)
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert f">{escape(Role.AGENCY.label)}</label>" in page
    assert f">{escape(Role.DESIGNEE.label)}</label>" not in page
    assert 'data-testid="roles-later"' in page and 'name="authorised_by"' not in page
    token = form_csrf(client, "/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "email": "new@example.org",
            "name": "New",
            "password": "a-long-enough-password",
            "roles": ["designee"],
            **authorisation_fields(),
        },
    )
    assert response.status_code == 422
    assert "not a valid choice" in field_error(response.get_data(as_text=True), "roles")
    session.rollback()
    assert session.scalars(select(User).where(User.email == "new@example.org")).first() is None
    session.rollback()


def test_the_cli_is_trusted_to_grant_any_role_on_a_written_authorisation(app, session):
    for role in ("deputy_chief", "designee"):
        result = app.test_cli_runner().invoke(
            args=[
                "users",
                "create",
                "--email",
                f"{role}@example.org",
                "--role",
                role,
                "--password",
                "a-long-enough-password",
                *AUTHORISATION_OPTIONS,
            ]
        )
        assert result.exit_code == 0, result.output
    designee = UserFactory(roles=[Role.OPERATOR])
    set_roles(session, "cli:users", designee, ["operator", "designee"], written_authorisation())
    session.commit()
    assert roles_of(session, designee.id) == {Role.OPERATOR, Role.DESIGNEE}


# --- a form sent twice reports no change --------------------------------------------------


def audited(session, action: str) -> int:
    session.rollback()
    found = session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
    session.commit()
    return len(found)


def test_deactivating_twice_reports_no_change_the_second_time(client, session, login_as):
    login_as(Role.ADMIN)
    target = UserFactory(roles=[Role.OPERATOR])
    path = f"/admin/users/{target.id}"
    token = form_csrf(client, path)
    for change, state in (("deactivate", "deactivated"), ("reactivate", "active")):
        data = {"csrf_token": token, **CONFIRMED}
        first = client.post(f"{path}/{change}", data=data, follow_redirects=True)
        again = client.post(f"{path}/{change}", data=data, follow_redirects=True)
        assert f"{target.email} {change}d." in first.get_data(as_text=True)
        again_page = again.get_data(as_text=True)
        assert f"No change: {target.email} is already {state}." in again_page
        assert f"{target.email} {change}d." not in again_page
    assert audited(session, "user.deactivated") == 1
    assert audited(session, "user.reactivated") == 1


def test_saving_unchanged_roles_reports_no_change_and_keeps_the_sessions(client, session, login_as):
    login_as(Role.DESIGNEE)
    target = UserFactory(roles=[Role.OPERATOR, Role.AUDITOR])
    generation = target.session_version
    response = post_roles(client, target.id, ["auditor", "operator"])
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"No change: {target.email} already holds these roles." in page
    assert "Roles updated." not in page
    assert role_changes(session) == 0
    session.expire_all()
    assert session.get(User, target.id).session_version == generation
    session.rollback()


def test_set_active_and_set_roles_say_whether_anything_changed(session):
    UserFactory(roles=[Role.ADMIN])
    target = UserFactory(roles=[Role.OPERATOR])
    assert set_active(session, "cli:users", target, False) is True
    assert set_active(session, "cli:users", target, False) is False
    grant = written_authorisation()
    assert set_roles(session, "cli:users", target, ["auditor"], grant) is True
    assert set_roles(session, "cli:users", target, ["auditor"], grant) is False
    session.commit()
    assert audited(session, "user.deactivated") == 1
    assert role_changes(session) == 1


# --- the create-user form: agencies belong to agency users -------------------------------


def post_new_user(client: FlaskClient, **fields):
    data = {
        "csrf_token": form_csrf(client, "/admin/users/new"),
        "email": "new@example.org",
        "name": "New",
        "password": "a-long-enough-password",
        **fields,
    }
    return client.post("/admin/users/new", data=data)


def nothing_created(session) -> bool:
    session.rollback()
    users = session.scalars(select(User).where(User.email == "new@example.org")).all()
    agencies = session.scalars(select(Agency)).all()
    session.commit()
    return not users and not agencies and audited(session, "agency.created") == 0


def test_an_agency_name_is_refused_for_department_roles(client, session, login_as):
    login_as(Role.DEPUTY_CHIEF)
    response = post_new_user(
        client, roles=["operator"], agency_name="Sheriff", **authorisation_fields()
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Only agency users belong to an agency" in field_error(html, "agency_name")
    assert field_error(html, "email") is None
    assert nothing_created(session)


def test_a_blank_agency_name_is_no_agency_and_is_shown_by_the_agency_field(
    client, session, login_as
):
    login_as(Role.ADMIN)
    response = post_new_user(client, roles=["agency"], agency_name="   ")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "must belong to an agency" in field_error(html, "agency_name")
    assert field_error(html, "email") is None
    assert nothing_created(session)


def test_an_agency_user_is_created_with_a_new_or_an_existing_agency(client, session, login_as):
    login_as(Role.ADMIN)
    assert post_new_user(client, roles=["agency"], agency_name=" Sheriff ").status_code == 302
    second = post_new_user(client, email="two@example.org", roles=["agency"], agency_name="Sheriff")
    assert second.status_code == 302
    session.rollback()
    agency = session.scalars(select(Agency)).one()
    users = session.scalars(select(User).where(User.agency_id == agency.id)).all()
    assert agency.name == "Sheriff" and len(users) == 2
    session.commit()
    assert audited(session, "agency.created") == 1


def test_the_service_refuses_an_agency_for_a_department_account(session):
    with pytest.raises(AccountError, match="Only agency users") as refused_:
        create_user(
            session,
            "cli:users",
            email="staff@example.org",
            name="Staff",
            password="a-long-enough-password",
            roles=["operator"],
            agency=AgencyFactory(),
        )
    assert refused_.value.field == "agency_name"


def test_role_choices_are_select_choices_with_their_labels(app, client, login_as):
    """WTForms 3.4 drops tuple choices; the checkboxes keep their labels."""
    with app.test_request_context(), warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*SelectField choices as tuples.*")
        for form in (UserCreateForm(), RolesForm()):
            assert [(c.value, c.label) for c in form.roles.choices] == [
                (role.value, label) for role, label in ROLE_LABELS.items()
            ]
    login_as(Role.DEPUTY_CHIEF)
    page = client.get("/admin/users/new").get_data(as_text=True)
    for label in ROLE_LABELS.values():
        assert f">{escape(label)}</label>" in page


# --- training dates ------------------------------------------------------------------------


def post_training(client: FlaskClient, user_id: int, completed_on: date, expires_on: date):
    path = f"/admin/users/{user_id}"
    return client.post(
        f"{path}/training",
        data={
            "training-csrf_token": form_csrf(client, path),
            "training-course": "ALPR 101",
            "training-completed_on": completed_on.isoformat(),
            "training-expires_on": expires_on.isoformat(),
            **authorisation_fields("training-"),
        },
    )


@pytest.mark.parametrize(
    ("completed", "expires", "field", "message"),
    [
        (-1, None, "expires_on", f"at most {MAX_TRAINING_VALIDITY_YEARS} years"),
        (1, 30, "completed_on", "The completion date"),
    ],
)
def test_impossible_training_dates_are_refused_by_their_field(
    client, session, login_as, completed, expires, field, message
):
    login_as(Role.DESIGNEE)
    target = UserFactory(trained=False)
    today = local_today()
    expires_on = date(9999, 12, 31) if expires is None else today + timedelta(days=expires)
    response = post_training(client, target.id, today + timedelta(days=completed), expires_on)
    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), f"training-{field}")
    session.rollback()
    assert session.get(User, target.id).training_records == []
    session.commit()
    assert audited(session, "training.recorded") == 0


def test_training_may_last_exactly_the_longest_validity(session):
    target = UserFactory(trained=False)
    completed = date(2024, 2, 29)  # a leap day: five years on is 28 February
    latest = date(2029, 2, 28)
    record_training(
        session,
        "cli:users",
        target,
        course="ALPR",
        completed_on=completed,
        expires_on=latest,
        authorisation=written_authorisation(),
    )
    with pytest.raises(AccountError, match="at most") as refused_:
        record_training(
            session,
            "cli:users",
            target,
            course="ALPR",
            completed_on=completed,
            expires_on=latest + timedelta(days=1),
            authorisation=written_authorisation(),
        )
    assert refused_.value.field == "expires_on"
