"""Session cookies are client-side: a copy made before a logout (or a password, role or
activation change) must stop working, through the per-user session generation."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.auth.models import Role
from tests.factories import UserFactory
from tests.helpers import CONFIRMED, authorisation_fields, form_csrf, login


def replay(client: FlaskClient, cookie: str) -> FlaskClient:
    """Another browser holding a copy of `cookie`."""
    other = client.application.test_client()
    other.set_cookie("session", cookie)
    return other


def signed_in(client: FlaskClient) -> bool:
    response = client.get("/alpr/search")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
        return False
    assert response.status_code == 200
    return True


def last_entry(session, action: AuditAction) -> dict:
    session.rollback()  # see what the requests committed, then release SQLite's write lock
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == action.value).order_by(AuditEntry.seq)
    ).all()[-1]
    details = json.loads(entry.detail.details_json)
    session.rollback()
    return details


def admin_client(client: FlaskClient, session, role: Role = Role.ADMIN) -> tuple[FlaskClient, str]:
    admin = UserFactory(roles=[role])
    other = client.application.test_client()
    assert login(other, admin.email).status_code == 302
    return other, admin.email


def test_a_cookie_copied_before_logout_is_refused_after_it(client, session, login_as):
    login_as(Role.OPERATOR)
    assert signed_in(client)
    cookie = client.get_cookie("session").value
    assert signed_in(replay(client, cookie))
    token = form_csrf(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not signed_in(client)
    assert not signed_in(replay(client, cookie))
    assert last_entry(session, AuditAction.LOGOUT) == {"sessions_ended": True}


def test_signing_in_again_after_logout_works(client, session, login_as):
    user = login_as(Role.OPERATOR)
    client.post("/logout", data={"csrf_token": form_csrf(client, "/")})
    assert login(client, user.email).status_code == 302
    assert signed_in(client)


def test_deactivation_ends_the_accounts_open_sessions(client, session, login_as):
    victim = login_as(Role.OPERATOR)
    assert signed_in(client)
    admin, _ = admin_client(client, session)
    token = form_csrf(admin, f"/admin/users/{victim.id}")
    assert (
        admin.post(
            f"/admin/users/{victim.id}/deactivate", data={"csrf_token": token, **CONFIRMED}
        ).status_code
        == 302
    )
    assert not signed_in(client)
    assert last_entry(session, AuditAction.USER_DEACTIVATED)["sessions_ended"] is True


def test_a_role_change_ends_the_users_open_sessions(client, session, login_as):
    victim = login_as(Role.OPERATOR)
    assert signed_in(client)
    chief, _ = admin_client(client, session, Role.DEPUTY_CHIEF)
    token = form_csrf(chief, f"/admin/users/{victim.id}")
    response = chief.post(
        f"/admin/users/{victim.id}/roles",
        data={"csrf_token": token, "roles": ["operator", "records"], **authorisation_fields()},
    )
    assert response.status_code == 302
    assert not signed_in(client)
    details = last_entry(session, AuditAction.USER_ROLES_CHANGED)
    assert details["after"] == ["operator", "records"] and details["sessions_ended"] is True


def test_changing_your_own_roles_keeps_you_signed_in_here_only(client, session, login_as):
    chief = login_as(Role.DEPUTY_CHIEF, Role.DESIGNEE)
    elsewhere = replay(client, client.get_cookie("session").value)
    token = form_csrf(client, f"/admin/users/{chief.id}")
    response = client.post(
        f"/admin/users/{chief.id}/roles",
        data={"csrf_token": token, "roles": ["deputy_chief"], **authorisation_fields()},
    )
    assert response.status_code == 302
    assert client.get("/admin/users").status_code == 200
    assert elsewhere.get("/admin/users").status_code == 302


def test_a_cookie_without_a_session_generation_is_refused(client, session, login_as):
    user = login_as(Role.OPERATOR)
    with client.session_transaction() as cookie:
        assert cookie["_user_id"] == f"{user.id}:0"
        cookie["_user_id"] = str(user.id)  # as issued before generations existed
    assert not signed_in(client)
