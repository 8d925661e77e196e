"""Passwords (issue 11 item 6): one's own with the current one; a temporary one set by the
Deputy Chief, designee or an admin, replaced at the next sign-in; the shell's set-password."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.helpers import AUTHORISATION_OPTIONS, form_csrf, login

NEW = "a-much-longer-secret-2026"


def change(client, current, new, again=None):
    return client.post(
        "/account/password",
        data={
            "csrf_token": form_csrf(client, "/account/password"),
            "current_password": current,
            "new_password": new,
            "confirm_password": again if again is not None else new,
        },
    )


def fresh(session, user) -> User:
    session.rollback()
    return session.get(User, user.id, populate_existing=True)


def test_a_user_changes_their_password_and_other_sessions_end(app, client, session, login_as):
    user = login_as(Role.OPERATOR)
    other = app.test_client()
    assert login(other, user.email).status_code == 302
    response = change(client, DEFAULT_PASSWORD, NEW)
    assert response.status_code == 302
    assert client.get("/").status_code == 200, "this browser goes on"
    assert other.get("/").status_code == 302, "the other session ended"
    assert login(app.test_client(), user.email, NEW).status_code == 302
    assert login(app.test_client(), user.email, DEFAULT_PASSWORD).status_code == 401
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.subject_id == str(user.id))
    )
    assert "user.password_changed" in list(actions)


@pytest.mark.parametrize(
    ("current", "new", "again", "field"),
    [
        ("wrong-password-entirely", NEW, None, "current_password-err"),
        (DEFAULT_PASSWORD, "short", None, "new_password-err"),
        (DEFAULT_PASSWORD, DEFAULT_PASSWORD, None, "new_password-err"),
        (DEFAULT_PASSWORD, NEW, NEW + "x", "confirm_password-err"),
    ],
)
def test_a_refused_change_says_why_at_its_field_and_changes_nothing(
    client, session, login_as, current, new, again, field
):
    user = login_as(Role.RECORDS)
    before = fresh(session, user).password_hash
    response = change(client, current, new, again)
    assert response.status_code == 422
    assert f'id="{field}"' in response.get_data(as_text=True)
    assert fresh(session, user).password_hash == before


def test_a_temporary_password_must_be_replaced_before_anything_else(app, client, session, login_as):
    admin = login_as(Role.ADMIN)
    officer = UserFactory(roles=[Role.OPERATOR], trained=True)
    session.commit()
    token = form_csrf(client, f"/admin/users/{officer.id}")
    response = client.post(
        f"/admin/users/{officer.id}/password", data={"csrf_token": token, "password": NEW}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/admin/users/{officer.id}")
    assert fresh(session, officer).password_must_change
    assert admin.id != officer.id

    theirs = app.test_client()
    assert login(theirs, officer.email, NEW).status_code == 302
    for path in ("/", "/alpr/search", "/alpr/hits"):
        answer = theirs.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].endswith(
            "/account/password"
        )
    assert 'data-testid="must-change"' in theirs.get("/account/password").get_data(as_text=True)
    assert change(theirs, NEW, "my-own-chosen-password-9").status_code == 302
    assert not fresh(session, officer).password_must_change
    assert theirs.get("/").status_code == 200


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.RECORDS, Role.AUDITOR])
def test_only_the_deputy_chief_designee_or_admin_sets_a_password(client, session, login_as, role):
    login_as(role)
    target = UserFactory(roles=[Role.OPERATOR])
    session.commit()
    token = form_csrf(client, "/account/password")
    response = client.post(
        f"/admin/users/{target.id}/password", data={"csrf_token": token, "password": NEW}
    )
    assert response.status_code == 403
    assert not fresh(session, target).password_must_change


def test_nobody_sets_their_own_password_as_a_temporary_one(client, session, login_as):
    admin = login_as(Role.ADMIN)
    token = form_csrf(client, f"/admin/users/{admin.id}")
    response = client.post(
        f"/admin/users/{admin.id}/password", data={"csrf_token": token, "password": NEW}
    )
    assert response.status_code == 422
    assert "current one" in response.get_data(as_text=True)
    assert not fresh(session, admin).password_must_change


def test_the_shell_sets_a_password_to_be_changed_outside_development(app, session):
    user = UserFactory(roles=[Role.OPERATOR])
    session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "set-password", user.email, "--password", NEW])
    assert result.exit_code == 0, result.output
    assert "to be changed at the next sign-in" in result.output
    assert fresh(session, user).password_must_change
    missing = runner.invoke(args=["users", "set-password", "nobody@x.test", "--password", NEW])
    assert missing.exit_code == 1 and "No user" in missing.output


def test_accounts_made_from_the_shell_must_change_their_password(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "new@x.test",
            "--role",
            "operator",
            "--password",
            NEW,
            *AUTHORISATION_OPTIONS,
        ]
    )
    assert result.exit_code == 0, result.output
    session.rollback()
    created = session.scalars(select(User).where(User.email == "new@x.test")).one()
    assert created.password_must_change
