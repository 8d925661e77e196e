"""The instance folder holds ALPR data (database, keys, pictures): owner-only, 0700 and 0600."""

from __future__ import annotations

import stat
from pathlib import Path

from app.config import database_url, load_settings
from app.core.storage import write_atomically


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_instance_folder_and_its_files_are_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("ACP_HMAC_KEY", raising=False)
    monkeypatch.setenv("ALPR_ENV", "development")
    instance = tmp_path / "instance"
    load_settings(instance)
    assert _mode(instance) == 0o700
    files = sorted(p.name for p in instance.iterdir())
    assert {"acp_hmac_key", "alpr.sqlite3", "secret_key"} <= set(files)
    assert {name: _mode(instance / name) for name in files} == dict.fromkeys(files, 0o600)


def test_an_existing_world_readable_instance_is_closed(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    instance = tmp_path / "open"
    instance.mkdir(mode=0o755)
    (instance / "alpr.sqlite3").write_bytes(b"")
    (instance / "alpr.sqlite3").chmod(0o644)
    database_url(instance)
    assert _mode(instance) == 0o700
    assert _mode(instance / "alpr.sqlite3") == 0o600


def test_stored_pictures_are_owner_only(tmp_path):
    target = tmp_path / "images" / "ab" / "cd" / "abcd"
    write_atomically(target, b"picture")
    assert _mode(target) == 0o600
    assert _mode(target.parent) == 0o700
