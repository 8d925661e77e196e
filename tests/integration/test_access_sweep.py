"""Every route refuses outsiders unless it is explicitly public (policy 425.6(a))."""

from __future__ import annotations

import re

from flask import Flask

from app.auth.access import ALPR_DATA_ROLES, rule_for_endpoint
from tests.helpers import form_csrf

#: The only routes that may answer without a login or a device token (DESIGN.md contracts).
#: An agency user's invitation link is opened before they have a password (app/requests).
PUBLIC_ENDPOINTS = {
    "static",
    "auth.login",
    "home.healthz",
    "home.readyz",
    "home.favicon",
    "requests.invitation",
    "alpr_api.openapi_json",
}
PUBLIC_PREFIX = "/public/"


def _concrete(rule) -> str:
    """Fill a rule's variables with plausible values so the request reaches the view."""
    path = rule.rule
    for converter in re.findall(r"<([^>]+)>", path):
        kind = converter.split(":")[0] if ":" in converter else "string"
        if kind.startswith("any("):
            value = kind[4:].split(",")[0].strip(" )")
        elif kind == "int":
            value = "1"
        elif kind == "path":
            value = "x/y"
        else:
            value = "x"
        path = path.replace(f"<{converter}>", value)
    return path


def _routes(app: Flask):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_view_declares_an_access_rule(app):
    missing = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule_for_endpoint(app, rule.endpoint) is None
    ]
    assert missing == []


def test_only_the_documented_routes_are_public(app):
    public = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule_for_endpoint(app, rule.endpoint).public
    }
    unexpected = {
        endpoint
        for endpoint in public - PUBLIC_ENDPOINTS
        if not app.url_map._rules_by_endpoint[endpoint][0].rule.startswith(PUBLIC_PREFIX)
    }
    assert unexpected == set()


def test_anonymous_requests_are_refused_everywhere_not_public(app, client, session):
    # A valid CSRF token (the anonymous session's, from the login form) on every form post, so
    # that what refuses a post is the login rule, not the CSRF check that runs before it.
    token = form_csrf(client, "/login")
    checked = 0
    for rule, method in _routes(app):
        if rule_for_endpoint(app, rule.endpoint).public:
            continue
        path = _concrete(rule)
        if path.startswith("/api/"):
            response = client.open(path, method=method)
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.is_json and "error" in response.get_json()
        else:
            data = None if method == "GET" else {"csrf_token": token}
            response = client.open(path, method=method, data=data)
            assert response.status_code == 302, (method, path, response.status_code)
            assert response.headers["Location"].startswith("/login"), (method, path)
        checked += 1
    assert checked > 0


def test_anonymous_sweep_of_gets_redirects_to_login(app, client, session):
    for rule, method in _routes(app):
        if (
            method != "GET"
            or rule_for_endpoint(app, rule.endpoint).public
            or rule.rule.startswith("/api/")
        ):
            continue
        response = client.get(_concrete(rule))
        assert response.status_code == 302, rule.rule
        assert "/login?next=" in response.headers["Location"]


def _alpr_data_gets(app: Flask) -> list[str]:
    return [
        _concrete(rule)
        for rule, method in _routes(app)
        if method == "GET" and rule_for_endpoint(app, rule.endpoint).training
    ]


def test_alpr_data_pages_all_require_training(app):
    """Every ALPR page states `training=True`: the staff pages of the alpr blueprint at least."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("alpr."):
            assert rule_for_endpoint(app, rule.endpoint).training, rule.endpoint


def test_expired_training_is_refused_on_alpr_pages(app, client, session):
    from datetime import timedelta

    from app.core.timeutil import local_today
    from tests.factories import TrainingRecordFactory, UserFactory
    from tests.helpers import login

    user = UserFactory(roles=sorted(ALPR_DATA_ROLES))
    TrainingRecordFactory(
        user=user,
        completed_on=local_today() - timedelta(days=400),
        expires_on=local_today() - timedelta(days=1),
    )
    assert login(client, user.email).status_code == 302
    pages = _alpr_data_gets(app)
    assert pages, "the app has ALPR data pages"
    for path in pages:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "training" in response.get_data(as_text=True)


def test_training_rule_guards_alpr_pages_end_to_end(app, client, session, login_as):
    """A trained operator passes the access rule where an untrained one is refused."""
    pages = _alpr_data_gets(app)
    assert pages, "the app has ALPR data pages"
    login_as(*sorted(ALPR_DATA_ROLES), trained=True)
    for path in pages:
        assert client.get(path).status_code != 403, path
