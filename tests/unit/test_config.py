"""Configuration: safe defaults, refusals in production, the 60-day ceiling."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from app import config, create_app
from app.config import (
    ConfigurationError,
    ScheduleCategory,
    load_settings,
    validate_records_schedule,
    validate_retention_days,
    validate_trusted_proxies,
)
from tests.helpers import production_environment


def test_defaults_are_sqlite_and_in_process_jobs(tmp_path, monkeypatch):
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "ACP_HMAC_KEY",
        "ALPR_ENV",
        "FLASK_ENV",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(tmp_path)
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'alpr.sqlite3'}"
    assert settings["REDIS_URL"] is None
    assert settings["RETENTION_DAYS"] == 60
    assert settings["TRUSTED_PROXIES"] == 0


def test_development_keys_are_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("ACP_HMAC_KEY", raising=False)
    monkeypatch.delenv("ALPR_ENV", raising=False)
    first = load_settings(tmp_path)
    second = load_settings(tmp_path)
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert len(first["SECRET_KEY"]) >= 64
    assert first["SECRET_KEY"] != first["ACP_HMAC_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "SECRET_KEY"),
        ("ACP_HMAC_KEY", "ACP_HMAC_KEY"),
        ("ALPR_AUDIT_SIGNING_KEY_FILE", "No audit signing key"),
    ],
)
def test_production_refuses_to_start_without_real_keys(tmp_path, monkeypatch, missing, message):
    production_environment(monkeypatch, tmp_path)
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigurationError, match=message):
        load_settings(tmp_path)
    assert not (tmp_path / "secret_key").exists()
    assert not (tmp_path / "audit_signing_key.pem").exists()


@pytest.mark.parametrize("short", ["short", " " * 40, "  padded-to-forty  ".center(40)])
def test_production_refuses_short_keys(tmp_path, monkeypatch, short):
    production_environment(monkeypatch, tmp_path, "FLASK_ENV")
    monkeypatch.setenv("SECRET_KEY", short)
    with pytest.raises(ConfigurationError, match="at least 32"):
        load_settings(tmp_path)


@pytest.mark.parametrize("production", [True, False])
def test_one_key_for_both_purposes_is_refused(tmp_path, monkeypatch, production):
    if production:
        monkeypatch.setenv("ALPR_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "same-" * 8)
    monkeypatch.setenv("ACP_HMAC_KEY", "same-" * 8 + " ")
    with pytest.raises(ConfigurationError, match="two different keys"):
        load_settings(tmp_path)


@pytest.mark.parametrize("where", ["environment", "instance file"])
def test_a_key_published_in_the_history_is_refused(tmp_path, monkeypatch, where):
    burned = "a-development-key-that-was-committed-once-" + "x" * 8
    digest = hashlib.sha256(burned.encode()).hexdigest()
    monkeypatch.setattr(config, "BURNED_KEY_DIGESTS", frozenset({digest}))
    if where == "environment":
        monkeypatch.setenv("SECRET_KEY", burned)
    else:
        monkeypatch.delenv("SECRET_KEY", raising=False)
        (tmp_path / "secret_key").write_text(burned + "\n")
    with pytest.raises(ConfigurationError, match="SECRET_KEY is a key published"):
        load_settings(tmp_path)


def test_production_cookies_are_secure(tmp_path, monkeypatch):
    production_environment(monkeypatch, tmp_path)
    assert load_settings(tmp_path)["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("days", [61, 90, 0, -1])
def test_retention_above_sixty_days_or_nonsense_is_refused(days):
    with pytest.raises(ConfigurationError, match="ALPR_RETENTION_DAYS"):
        validate_retention_days(days)


def test_retention_env_above_sixty_refuses_start(tmp_path, monkeypatch):
    monkeypatch.setenv("ALPR_RETENTION_DAYS", "61")
    with pytest.raises(ConfigurationError, match="60"):
        load_settings(tmp_path)


def test_retention_override_in_factory_is_validated(tmp_path):
    with pytest.raises(ConfigurationError):
        create_app({"INSTANCE_PATH": str(tmp_path), "RETENTION_DAYS": 75})


def test_retention_may_be_shortened(tmp_path, monkeypatch):
    monkeypatch.setenv("ALPR_RETENTION_DAYS", "30")
    assert load_settings(tmp_path)["RETENTION_DAYS"] == 30


def test_postgres_urls_use_psycopg3(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert load_settings(tmp_path)["DATABASE_URL"] == "postgresql+psycopg://u@h/db"


def test_trusted_proxies_are_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ALPR_TRUSTED_PROXIES", "2")
    assert load_settings(tmp_path)["TRUSTED_PROXIES"] == 2


@pytest.mark.parametrize("raw", ["-1", "one", "1.5", "yes"])
def test_a_bad_trusted_proxies_value_refuses_start(tmp_path, monkeypatch, raw):
    monkeypatch.setenv("ALPR_TRUSTED_PROXIES", raw)
    with pytest.raises(ConfigurationError, match="ALPR_TRUSTED_PROXIES"):
        load_settings(tmp_path)


@pytest.mark.parametrize("hops", [-1, "1", True, None])
def test_trusted_proxies_override_in_factory_is_validated(tmp_path, hops):
    with pytest.raises(ConfigurationError, match="ALPR_TRUSTED_PROXIES"):
        validate_trusted_proxies(hops)
    with pytest.raises(ConfigurationError, match="ALPR_TRUSTED_PROXIES"):
        create_app({"INSTANCE_PATH": str(tmp_path), "TRUSTED_PROXIES": hops})


def test_the_default_records_schedule_has_categories_with_periods_in_years(tmp_path, monkeypatch):
    monkeypatch.delenv("ALPR_RECORDS_SCHEDULE", raising=False)
    schedule = load_settings(tmp_path)["RECORDS_SCHEDULE"]
    assert [(c.code, c.years) for c in schedule] == [
        ("felony", 7),
        ("gross_misdemeanor", 5),
        ("misdemeanor", 3),
    ]
    assert all(c.label for c in schedule)


def test_the_records_schedule_is_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ALPR_RECORDS_SCHEDULE", " homicide = 25 : Homicide case file ; dwi=4:DWI ;")
    assert load_settings(tmp_path)["RECORDS_SCHEDULE"] == (
        ScheduleCategory("homicide", "Homicide case file", 25),
        ScheduleCategory("dwi", "DWI", 4),
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "names no category"),
        (" ; ", "names no category"),
        ("felony", "entry 1 .* is not code=years:label"),
        ("felony:7=Felony", "entry 1 .* is not code=years:label"),
        ("felony=7:Felony;misdemeanor 3 Misdemeanor", "entry 2"),
        ("felony=seven:Felony", "whole number of years .* got 'seven'"),
        ("felony=0:Felony", "from 1 to 99; got 0"),
        ("felony=100:Felony", "from 1 to 99; got 100"),
        ("felony=-3:Felony", "got -3"),
        ("Felony=7:Felony", "lower-case letter"),
        ("=7:Felony", "lower-case letter"),
        ("fel ony=7:Felony", "lower-case letter"),
        ("felony=7:", "label of 1 to 100"),
        ("felony=7:" + "x" * 101, "label of 1 to 100"),
        ("felony=7:Felony;felony=3:Again", "listed twice"),
    ],
)
def test_a_bad_records_schedule_refuses_start(tmp_path, monkeypatch, raw, message):
    monkeypatch.setenv("ALPR_RECORDS_SCHEDULE", raw)
    with pytest.raises(ConfigurationError, match=f"ALPR_RECORDS_SCHEDULE.*{message}"):
        load_settings(tmp_path)


@pytest.mark.parametrize(
    "schedule",
    ["felony=0:Felony", (ScheduleCategory("felony", "Felony", True),), [("felony", 7)], 7],
)
def test_records_schedule_override_in_factory_is_validated(tmp_path, schedule):
    with pytest.raises(ConfigurationError, match="ALPR_RECORDS_SCHEDULE"):
        validate_records_schedule(schedule)
    with pytest.raises(ConfigurationError, match="ALPR_RECORDS_SCHEDULE"):
        create_app({"INSTANCE_PATH": str(tmp_path), "RECORDS_SCHEDULE": schedule})


def test_a_category_ends_its_period_after_the_close():
    category = ScheduleCategory("felony", "Felony", 7)
    assert category.ends(date(2026, 3, 1)) == date(2033, 3, 1)
    assert category.ends(date(2024, 2, 29)) == date(2031, 2, 28)
