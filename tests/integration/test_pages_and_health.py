"""Health checks, error pages that leak nothing, the staff home, the admin account pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.core.timeutil import local_today
from tests.factories import UserFactory
from tests.helpers import CONFIRMED, authorisation_fields, form_csrf, login


def last_action(session) -> str:
    session.rollback()  # end the read snapshot (SQLite WAL) to see what requests committed
    return session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq.desc())).first()


def test_healthz_and_readyz(client, session):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {
        "database": "ok",
        "queue": "in-process",
        "audit_unchained": "ok: 0 waiting",
    }


def test_readyz_reports_an_unreachable_queue(make_app, session):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["queue"] == "unreachable"


def test_readyz_with_real_redis(make_app, session, redis_url):
    app = make_app(REDIS_URL=redis_url)
    response = app.test_client().get("/readyz")
    assert response.get_json()["checks"]["queue"] == "ok"


def test_404_page_and_api_json(client, session):
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "text/html" in page.content_type
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.get_json()["status"] == 404


def test_500_leaks_no_stack_trace(make_app, session):
    app = make_app(PROPAGATE_EXCEPTIONS=False, TESTING=False)

    from app.auth.access import public

    @app.route("/boom")
    @public
    def boom():
        raise RuntimeError("secret internal detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internal detail" not in body and "Traceback" not in body
    assert "could not be completed" in body


UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2"


def test_an_unreachable_database_answers_503_with_retry_after(make_app):
    app = make_app(DATABASE_URL=UNREACHABLE_DATABASE, PROPAGATE_EXCEPTIONS=False, TESTING=False)
    client = app.test_client()
    api = client.post(
        "/api/v1/reads", json={"reads": []}, headers={"Authorization": "Bearer some-token"}
    )
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "5"
    assert api.get_json() == {
        "error": "The records database is unavailable; nothing was stored. Try again shortly.",
        "status": 503,
    }
    assert "127.0.0.1:1" not in api.get_data(as_text=True)


def test_a_busy_sqlite_database_answers_503(make_app, tmp_path):
    import sqlite3

    path = tmp_path / "busy.sqlite3"
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    app = make_app(
        DATABASE_URL=f"sqlite:///{path}?timeout=0.1", PROPAGATE_EXCEPTIONS=False, TESTING=False
    )
    response = app.test_client().post(
        "/api/v1/reads", json={"reads": []}, headers={"Authorization": "Bearer some-token"}
    )
    holder.rollback()
    holder.close()
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"


def test_home_shows_roles_training_and_the_auditor_the_last_verification(client, session, login_as):
    login_as(Role.OPERATOR, Role.RECORDS, trained=True)
    html = client.get("/").get_data(as_text=True)
    assert "Operator (trained officer)" in html and "Records staff" in html
    assert "Current:" in html
    assert "Audit chain" not in html
    client.post("/logout", data={"csrf_token": form_csrf(client, "/")})
    login_as(Role.AUDITOR, trained=True)
    assert "has not been verified yet" in client.get("/").get_data(as_text=True)


def test_home_warns_without_training(client, session, login_as):
    login_as(Role.OPERATOR, trained=False)
    assert "No current department-approved ALPR training" in client.get("/").get_data(as_text=True)


def test_agency_users_see_only_their_agency_account(client, session, login_as):
    from tests.factories import AgencyFactory

    login_as(Role.AGENCY, agency=AgencyFactory(name="Goodhue County Sheriff"))
    html = client.get("/").get_data(as_text=True)
    assert "Goodhue County Sheriff" in html
    assert "Audit chain" not in html and "ALPR training" not in html
    assert client.get("/audit/").status_code == 403


@pytest.mark.parametrize(
    ("creator", "roles", "authorisation"),
    [
        (Role.ADMIN, [], {}),  # the Deputy Chief or designee grants the roles afterwards
        (Role.DEPUTY_CHIEF, ["operator", "records"], authorisation_fields()),
    ],
)
def test_creating_a_user_is_audited(client, session, login_as, creator, roles, authorisation):
    login_as(creator)
    token = form_csrf(client, "/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "email": "New.Officer@Example.org",
            "name": "New Officer",
            "password": "a-long-enough-password",
            "roles": roles,
            **authorisation,
        },
    )
    assert response.status_code == 302
    user = session.scalars(select(User).where(User.email == "new.officer@example.org")).one()
    assert user.roles == {Role(r) for r in roles}
    assert last_action(session) == "user.created"


def test_form_fields_carry_aria_attributes_only_when_they_apply(client, session, login_as):
    """An attribute without a value is left out, never rendered as the text "None"."""
    assert '="None"' not in client.get("/login").get_data(as_text=True)
    login_as(Role.ADMIN)
    token = form_csrf(client, "/admin/users/new")
    refused = client.post("/admin/users/new", data={"csrf_token": token, "email": "bad"})
    html = refused.get_data(as_text=True)
    assert '="None"' not in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="email-err"' in html


def test_bad_user_form_is_refused_and_nothing_saved(client, session, login_as):
    login_as(Role.ADMIN)
    token = form_csrf(client, "/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "email": "x@example.test",
            "name": "X",
            "password": "short",
            "roles": [],
        },
    )
    assert response.status_code == 422
    assert session.scalars(select(User).where(User.email == "x@example.test")).first() is None


def test_duplicate_email_is_a_clear_error(client, session, login_as):
    login_as(Role.ADMIN)
    existing = UserFactory(email="taken@example.org")
    token = form_csrf(client, "/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "email": existing.email,
            "name": "Dup",
            "password": "a-long-enough-password",
        },
    )
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)


def test_deputy_chief_changes_roles_records_training_and_deactivates(client, session, login_as):
    login_as(Role.DEPUTY_CHIEF)
    target = UserFactory(roles=[Role.OPERATOR])
    path = f"/admin/users/{target.id}"
    token = form_csrf(client, path)
    roles = {"csrf_token": token, "roles": ["auditor"], **authorisation_fields()}
    assert client.post(f"{path}/roles", data=roles).status_code == 302
    assert last_action(session) == "user.roles_changed"
    today = local_today()
    response = client.post(
        f"{path}/training",
        data={
            "training-csrf_token": token,
            "training-course": "ALPR 101",
            "training-completed_on": (today - timedelta(days=1)).isoformat(),
            "training-expires_on": (today + timedelta(days=364)).isoformat(),
            **authorisation_fields("training-"),
        },
    )
    assert response.status_code == 302
    assert last_action(session) == "training.recorded"
    assert (
        client.post(f"{path}/deactivate", data={"csrf_token": token, **CONFIRMED}).status_code
        == 302
    )
    assert last_action(session) == "user.deactivated"
    session.expire_all()
    refreshed = session.get(User, target.id)
    assert refreshed.roles == {Role.AUDITOR}
    assert refreshed.current_training(today).course == "ALPR 101"
    assert not refreshed.is_active_account
    fresh = client.application.test_client()
    assert login(fresh, refreshed.email).status_code == 401


def test_training_that_expires_before_completion_is_refused(client, session, login_as):
    login_as(Role.DESIGNEE)
    target = UserFactory()
    path = f"/admin/users/{target.id}"
    token = form_csrf(client, path)
    today = local_today()
    response = client.post(
        f"{path}/training",
        data={
            "training-csrf_token": token,
            "training-course": "ALPR 101",
            "training-completed_on": today.isoformat(),
            "training-expires_on": (today - timedelta(days=5)).isoformat(),
            **authorisation_fields("training-"),
        },
    )
    assert response.status_code == 422
    assert "cannot expire before" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, target.id).training_records == []


def test_admin_cannot_deactivate_self(client, session, login_as):
    admin = login_as(Role.ADMIN)
    path = f"/admin/users/{admin.id}"
    token = form_csrf(client, path)
    response = client.post(
        f"{path}/deactivate", data={"csrf_token": token, **CONFIRMED}, follow_redirects=True
    )
    assert "cannot deactivate your own" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, admin.id).is_active_account


def test_admin_form_post_without_csrf_is_refused(client, session, login_as):
    login_as(Role.DEPUTY_CHIEF)
    target = UserFactory()
    assert (
        client.post(f"/admin/users/{target.id}/roles", data={"roles": ["admin"]}).status_code == 400
    )
    session.expire_all()
    assert session.get(User, target.id).roles == {Role.OPERATOR}


@pytest.mark.parametrize(("hops", "hsts"), [(1, True), (0, False)])
def test_forwarded_https_is_honoured_only_behind_a_trusted_proxy(make_app, session, hops, hsts):
    app = make_app(TRUSTED_PROXIES=hops)
    response = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert ("Strict-Transport-Security" in response.headers) is hsts
