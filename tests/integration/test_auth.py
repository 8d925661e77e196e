"""Login, lockout, CSRF, rate limiting and the admin role matrix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.auth.models import Role, User
from app.auth.signin import failure_message
from app.db import utcnow
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.helpers import actions, form_csrf, login


def flashed(response) -> list[str]:
    """The messages a page shows in its flash area."""
    import re

    return re.findall(r'<p class="flash flash-\w+">([^<]*)</p>', response.get_data(as_text=True))


REFUSED = failure_message(15)


def test_login_success_redirects_home_and_is_audited(client, session):
    user = UserFactory(roles=[Role.OPERATOR], trained=True)
    response = login(client, user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert user.name in home.get_data(as_text=True)
    assert actions(session) == ["auth.login"]


def test_wrong_password_is_refused_with_a_clear_message_and_audited(client, session):
    user = UserFactory()
    response = login(client, user.email, "wrong-password-entirely")
    assert response.status_code == 401
    assert flashed(response) == [REFUSED]
    assert client.get("/").status_code == 302  # still anonymous
    assert actions(session) == ["auth.login_failed"]
    session.expire_all()
    assert session.get(User, user.id).failed_logins == 1


def test_unknown_account_gets_the_same_message(client, session):
    response = login(client, "nobody@example.test", "whatever-password")
    assert response.status_code == 401
    assert flashed(response) == [REFUSED]
    assert actions(session) == ["auth.login_failed"]


def test_the_answer_says_that_repeated_failures_lock_an_account(make_app, session):
    app = make_app(LOGIN_LOCKOUT_MINUTES=30)
    response = login(app.test_client(), "nobody@example.test", "whatever-password")
    assert "locked for 30 minutes" in flashed(response)[0]


def test_lockout_does_not_tell_real_accounts_from_unknown_ones(make_app, session):
    app = make_app(LOGIN_LOCKOUT_THRESHOLD=3)
    client = app.test_client()
    user = UserFactory()
    answers = {}
    for email in (user.email, "nobody@example.test"):
        answers[email] = [
            (response.status_code, flashed(response))
            for response in (login(client, email, "wrong-password-x") for _ in range(4))
        ]
    assert answers[user.email] == answers["nobody@example.test"] == [(401, [REFUSED])] * 4
    assert actions(session).count("auth.login_locked") == 1  # the real account's 4th try


def test_a_locked_attempt_costs_an_argon2_check_like_the_others(make_app, session, monkeypatch):
    from app.auth import signin

    app = make_app(LOGIN_LOCKOUT_THRESHOLD=1)
    client = app.test_client()
    user = UserFactory()
    assert login(client, user.email, "wrong-password-x").status_code == 401
    checked = []

    class SpyHasher:
        def verify(self, hashed: str, password: str) -> bool:
            checked.append(hashed)
            return real.verify(hashed, password)

    real = signin.PASSWORD_HASHER
    monkeypatch.setattr(signin, "PASSWORD_HASHER", SpyHasher())
    assert login(client, user.email, DEFAULT_PASSWORD).status_code == 401
    assert checked == [signin._DUMMY_HASH]
    assert actions(session)[-1] == "auth.login_locked"


def test_lockout_after_repeated_failures_even_with_the_right_password(make_app, session):
    app = make_app(LOGIN_LOCKOUT_THRESHOLD=3, LOGIN_LOCKOUT_MINUTES=15)
    client = app.test_client()
    user = UserFactory()
    for _ in range(3):
        assert login(client, user.email, "not-the-password").status_code == 401
    response = login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 401
    assert flashed(response) == [REFUSED]
    assert client.get("/").status_code == 302  # the right password did not sign in
    session.expire_all()
    locked = session.get(User, user.id)
    assert locked.locked_until is not None and locked.locked_until > utcnow() + timedelta(
        minutes=14
    )
    assert "auth.login_locked" in actions(session)


def test_lock_expires(make_app, session):
    app = make_app(LOGIN_LOCKOUT_THRESHOLD=2)
    client = app.test_client()
    user = UserFactory()
    user.locked_until = utcnow() - timedelta(seconds=1)
    user.failed_logins = 2
    session.commit()
    assert login(client, user.email).status_code == 302


def test_login_is_rate_limited_per_address(make_app, session):
    app = make_app(LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [login(client, f"x{i}@example.test", "wrong-password-x").status_code for i in range(4)]
    assert codes[:3] == [401, 401, 401]
    assert codes[3] == 429


def _login_from(client, email, forwarded_for):
    token = form_csrf(client, "/login")
    return client.post(
        "/login",
        data={"email": email, "password": "wrong-password-x", "csrf_token": token},
        headers={"X-Forwarded-For": forwarded_for},
    )


def test_behind_a_trusted_proxy_each_client_address_has_its_own_bucket(make_app, session):
    app = make_app(LOGIN_RATE_LIMIT="2 per minute", TRUSTED_PROXIES=1)
    client = app.test_client()
    first = [_login_from(client, f"a{i}@example.test", "203.0.113.1").status_code for i in (1, 2)]
    assert first == [401, 401]
    # A client cannot escape its bucket by prepending a forged address: only the hop the
    # proxy appended is trusted.
    assert _login_from(client, "a3@example.test", "10.0.0.9, 203.0.113.1").status_code == 429
    assert _login_from(client, "b1@example.test", "203.0.113.2").status_code == 401


def test_without_a_trusted_proxy_forwarded_for_is_ignored(make_app, session):
    app = make_app(LOGIN_RATE_LIMIT="2 per minute")
    assert app.config["TRUSTED_PROXIES"] == 0
    client = app.test_client()
    codes = [
        _login_from(client, f"c{i}@example.test", f"203.0.113.{i}").status_code for i in range(3)
    ]
    assert codes == [401, 401, 429]


def test_login_rate_limit_also_counts_per_account(make_app, session):
    app = make_app(LOGIN_RATE_LIMIT="2 per minute")
    user = UserFactory()
    first = app.test_client()
    for _ in range(2):
        login(first, user.email, "wrong-password-x")
    other_address = app.test_client()
    token = form_csrf(other_address, "/login")
    response = other_address.post(
        "/login",
        data={"email": user.email, "password": "wrong-password-x", "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert response.status_code == 429


def test_deactivated_user_cannot_sign_in(client, session):
    user = UserFactory(is_active_account=False)
    response = login(client, user.email)
    assert response.status_code == 401
    assert "deactivated" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_400_and_changes_nothing(client, session):
    user = UserFactory()
    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert "could not be accepted" in response.get_data(as_text=True)
    assert actions(session) == []


def test_logout_requires_post_with_csrf(client, login_as, session):
    login_as(Role.OPERATOR)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    token = form_csrf(client, "/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    assert actions(session)[-1] == "auth.logout"


def _login_with_next(client, next_url: str):
    user = UserFactory()
    token = form_csrf(client, "/login")
    return client.post(
        f"/login?next={next_url}",
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
    )


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example/x",
        "/%09/evil.example/x",  # a tab, which browsers drop
        "/%0a/evil.example",  # a newline (also a 500 in the Location header)
        "/%0d%0aSet-Cookie:x=1",
        "/%7f/evil.example",
        "/%2F/evil.example",
        "/%5Cevil.example",  # a backslash, which browsers read as a slash
        "%5C%5Cevil.example",
        "https://evil.example/",
        "https:/evil.example",
        "evil.example",
        "javascript:alert(1)",
    ],
)
def test_open_redirect_is_refused(client, session, next_url):
    response = _login_with_next(client, next_url)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_local_next_is_followed(client, session):
    response = _login_with_next(client, "/alpr/search%3Fplate%3DABC123")
    assert response.headers["Location"] == "/alpr/search?plate=ABC123"


def test_session_cookie_flags(client, session):
    user = UserFactory()
    response = login(client, user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_security_headers(client, session):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("role", "listing", "creating"),
    [
        (Role.ADMIN, True, True),
        (Role.DEPUTY_CHIEF, True, True),
        (Role.DESIGNEE, True, False),  # grants access (425.3); creating accounts is the admin's
        (Role.OPERATOR, False, False),
        (Role.RECORDS, False, False),
        (Role.AUDITOR, False, False),
        (Role.AGENCY, False, False),
    ],
)
def test_admin_pages_role_matrix(client, session, login_as, role, listing, creating):
    fields = {}
    if role is Role.AGENCY:
        from tests.factories import AgencyFactory

        fields["agency"] = AgencyFactory()
    login_as(role, **fields)
    assert client.get("/admin/users").status_code == (200 if listing else 403)
    assert client.get("/admin/users/new").status_code == (200 if creating else 403)


def test_refusal_is_audited(client, session, login_as):
    login_as(Role.OPERATOR)
    assert client.get("/admin/users").status_code == 403
    assert actions(session)[-1] == "auth.access_denied"
