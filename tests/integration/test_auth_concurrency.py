"""Concurrent sign-ins against a real threaded server: no 500s, every attempt audited, and
every failure counted (a read-modify-write of the count would lose some)."""

from __future__ import annotations

import threading

import httpx
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.models import User
from tests.factories import UserFactory
from tests.helpers import CSRF_INPUT, serve

ATTEMPTS = 12
THRESHOLD = 3


def _signed_out_browser(base_url: str) -> tuple[httpx.Client, str]:
    browser = httpx.Client(base_url=base_url, timeout=60)
    html = browser.get("/login").text
    token = CSRF_INPUT.search(html)
    assert token
    return browser, token.group(1)


def test_concurrent_wrong_passwords_are_all_refused_counted_and_audited(make_app, session):
    app = make_app(LOGIN_LOCKOUT_THRESHOLD=THRESHOLD)
    user = UserFactory()
    user_id, email = user.id, user.email
    statuses: list[int] = []
    with serve(app) as base_url:
        browsers = [_signed_out_browser(base_url) for _ in range(ATTEMPTS)]
        barrier = threading.Barrier(ATTEMPTS)

        def attempt(browser: httpx.Client, token: str) -> None:
            barrier.wait()
            response = browser.post(
                "/login",
                data={"email": email, "password": "wrong-password-x", "csrf_token": token},
            )
            statuses.append(response.status_code)

        threads = [threading.Thread(target=attempt, args=pair) for pair in browsers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for browser, _ in browsers:
            browser.close()

    assert statuses == [401] * ATTEMPTS
    session.expire_all()
    entries = session.scalars(
        select(AuditEntry).where(
            AuditEntry.subject_type == "users", AuditEntry.subject_id == str(user_id)
        )
    ).all()
    failed = [e for e in entries if e.action == "auth.login_failed"]
    locked = [e for e in entries if e.action == "auth.login_locked"]
    assert len(failed) + len(locked) == ATTEMPTS
    account = session.get(User, user_id)
    assert account.failed_logins == len(failed) >= THRESHOLD
    assert account.locked_until is not None
    session.rollback()
