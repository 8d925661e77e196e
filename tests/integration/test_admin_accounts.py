"""Account administration rules: one administrator always remains, the Deputy Chief alone
grants the Deputy Chief's and designee roles (425.3), nobody adds roles to themselves."""

from __future__ import annotations

import threading

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.auth.services import AccountError, set_active, set_roles
from app.db import unit_of_work
from tests.conftest import form_csrf
from tests.factories import UserFactory


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
    return client.post(f"/admin/users/{user_id}/roles", data={"csrf_token": token, "roles": roles})


def refused(response, message: str) -> bool:
    return response.status_code == 400 and message in response.get_data(as_text=True)


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
        set_roles(session, "cli:users", last, ["operator"])
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
    response = client.post(f"/admin/users/{admin.id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 302  # the Deputy Chief remains
    session.expire_all()
    assert session.get(User, admin.id).is_active_account is False
    session.rollback()


def test_two_administrators_removing_each_other_at_once_leave_one(app, session):
    first = UserFactory(roles=[Role.ADMIN])
    second = UserFactory(roles=[Role.ADMIN])
    ids = {first.id: second.id, second.id: first.id}
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(actor_id: int) -> None:
        barrier.wait()
        with app.app_context():
            try:
                with unit_of_work() as work:
                    actor = work.get(User, actor_id)
                    set_roles(work, actor, work.get(User, ids[actor_id]), ["operator"])
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
    admins = [u for u in session.scalars(select(User)) if u.has_role(Role.ADMIN)]
    assert len(admins) == 1
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
def test_an_administrator_cannot_grant_or_remove_the_deputy_chiefs_roles(
    client, session, login_as, before, after
):
    login_as(Role.ADMIN)
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


def test_an_administrator_cannot_create_a_designee(client, session, login_as):
    login_as(Role.ADMIN)
    token = form_csrf(client, "/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "email": "new@example.org",
            "name": "New",
            "password": "a-long-enough-password",
            "roles": ["designee"],
        },
    )
    assert refused(response, "Only a Deputy Chief may grant or remove")
    session.rollback()
    assert session.scalars(select(User).where(User.email == "new@example.org")).first() is None
    session.rollback()


def test_the_cli_is_trusted_to_grant_any_role(app, session):
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
            ]
        )
        assert result.exit_code == 0, result.output
    designee = UserFactory(roles=[Role.OPERATOR])
    set_roles(session, "cli:users", designee, ["operator", "designee"])
    session.commit()
    assert roles_of(session, designee.id) == {Role.OPERATOR, Role.DESIGNEE}
