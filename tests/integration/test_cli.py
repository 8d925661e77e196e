"""The command-line contracts: users, audit, demo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import Role, User
from app.core.timeutil import local_today
from app.demo.accounts import DEMO_USERS, demo_password
from app.reads.models import Device
from tests.helpers import AUTHORISATION_OPTIONS, login, production_environment


def test_users_create_with_roles_and_training(app, session):
    until = local_today().replace(day=1) + timedelta(days=2 * 365)
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "chief@example.org",
            "--name",
            "Chief",
            "--role",
            "deputy_chief",
            "--role",
            "auditor",
            "--password",
            "a-long-enough-password",
            "--trained-until",
            until.isoformat(),
            *AUTHORISATION_OPTIONS,
        ]
    )
    assert result.exit_code == 0, result.output
    user = session.scalars(select(User).where(User.email == "chief@example.org")).one()
    assert user.roles == {Role.DEPUTY_CHIEF, Role.AUDITOR}
    assert user.training_records[0].expires_on == until


def test_users_create_refuses_training_valid_for_decades(app, session):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "forever@example.org",
            "--role",
            "operator",
            "--password",
            "a-long-enough-password",
            "--trained-until",
            "2099-01-01",
            *AUTHORISATION_OPTIONS,
        ]
    )
    assert result.exit_code == 1 and "at most 5 years" in result.output, result.output
    session.rollback()
    assert session.scalars(select(User).where(User.email == "forever@example.org")).all() == []


def test_users_create_refuses_bad_input_clearly(app, session):
    runner = app.test_cli_runner()
    short = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "a@example.org",
            "--role",
            "operator",
            "--password",
            "short",
            *AUTHORISATION_OPTIONS,
        ]
    )
    assert short.exit_code != 0 and "at least 12" in short.output
    unknown = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "b@example.org",
            "--role",
            "sheriff",
            "--password",
            "x" * 12,
        ]
    )
    assert unknown.exit_code != 0 and "sheriff" in unknown.output
    assert session.scalars(select(User)).all() == []


def test_demo_seed_creates_every_role_once_and_the_passwords_work(app, session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    for email, *_ in DEMO_USERS:
        assert email in first.output
        assert demo_password(email) in first.output
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0
    assert "already exist" in second.output
    users = session.scalars(select(User)).all()
    assert len(users) == len(DEMO_USERS)
    assert set().union(*(u.roles for u in users)) == set(Role)
    client = app.test_client()
    assert (
        login(client, "operator@demo.alpr", demo_password("operator@demo.alpr")).status_code == 302
    )


@pytest.mark.parametrize("variable", ["ALPR_ENV", "FLASK_ENV"])
def test_demo_seed_is_refused_in_production_and_creates_nothing(
    app, make_app, monkeypatch, variable, tmp_path
):
    production_environment(monkeypatch, tmp_path, variable)
    production = make_app()
    assert production.config["PRODUCTION"] is True
    # No app context is pushed here (no `session` fixture), so the command runs in this app.
    result = production.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code != 0
    assert "refused in production" in result.output
    assert "@demo.alpr" not in result.output
    with production.app_context():
        from app.db import db_session

        assert db_session().scalars(select(User)).all() == []
        assert db_session().scalars(select(Device)).all() == []
