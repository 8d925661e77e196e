"""Backups that keep the retention rule: a restored backup never brings destroyed data back.

The backup is real (pg_dump custom format and a psql restore on PostgreSQL, the SQLite backup
API otherwise); what is destroyed after it comes back with the restore, and the restore destroys
it again from the destruction ledger before anyone is served.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.audit.actions import AuditAction
from app.audit.services import verify
from app.auth.models import Role
from app.core.timeutil import local_today
from app.db import utcnow
from app.reads.images import image_path
from app.reads.models import Read
from app.retention import ledger
from app.retention.acp.lifecycle import (
    destroy_existing_acp_data,
    receive_acp_request,
    verify_acp_request,
)
from app.retention.backups import (
    RESTORE_MARKER,
    create_backup,
    list_backups,
    prune_backups,
    restore_backup,
)
from app.retention.destruction import finish_tombstones
from app.retention.models import AcpDestroyedRead
from tests.factories import UserFactory
from tests.helpers import (
    PAPER_ORIGINAL,
    add_image,
    aged_read,
    dangling_images,
    details,
    entries,
    orphan_files,
    run_purge,
    surviving_ids,
)


@pytest.fixture
def keeper(make_app, tmp_path):
    """The app with a ledger and a backup folder of this test's own."""
    return make_app(
        DESTRUCTION_LEDGER=str(tmp_path / "ledger" / "destruction-ledger.jsonl"),
        BACKUP_DIR=str(tmp_path / "backups"),
    )


def _restore(app, backup: Path):
    return restore_backup(
        backup,
        database_url=app.config["DATABASE_URL"],
        engine=app.extensions["alpr_engine"],
        session_factory=app.extensions["alpr_sessionmaker"],
        ledger_file=Path(app.config["DESTRUCTION_LEDGER"]),
        instance_path=Path(app.config["INSTANCE_PATH"]),
        retention_days=app.config["RETENTION_DAYS"],
        batch_size=1000,
    )


def test_a_restored_backup_destroys_again_what_a_purge_and_an_acp_request_destroyed(
    app, context_app, session, keeper
):
    purged = aged_read(10, plate="OLD1111")
    participant = aged_read(1, plate="HIDE123")
    kept = aged_read(2, plate="KEEP222")
    session.commit()
    purged_file, participant_file, kept_file = (
        add_image(session, read) for read in (purged, participant, kept)
    )
    ids = {"purged": purged.id, "participant": participant.id, "kept": kept.id}
    factory = keeper.extensions["alpr_sessionmaker"]

    backup = create_backup(
        factory, keeper.config["DATABASE_URL"], Path(keeper.config["BACKUP_DIR"])
    )
    assert backup.stat().st_mode & 0o777 == 0o600
    assert list_backups(backup.parent)[-1][1] == backup
    (created,) = entries(session, AuditAction.BACKUP_CREATED)
    assert details(created) == {"backup": backup.name}
    session.commit()  # ends the read snapshot before others write

    # After the backup: a purge (its clock 55 days on, so only the ledger knows why the read
    # went), an ACP participant's existing data destroyed, and a read that arrives.
    with keeper.app_context():
        result = run_purge(keeper, now=utcnow() + timedelta(days=55))
    assert result.reads_destroyed == 1
    records = UserFactory(roles=[Role.RECORDS])
    session.commit()
    with factory() as acp_session:
        clerk = acp_session.get(type(records), records.id)
        request = receive_acp_request(
            acp_session,
            clerk,
            participant_number="ACP-9",
            plates=["HIDE123"],
            received_on=local_today(),
            paper_original=PAPER_ORIGINAL,
        )
        verify_acp_request(acp_session, clerk, request)
        outcome = destroy_existing_acp_data(acp_session, clerk, request)
        acp_session.commit()
    finish_tombstones(factory, set(outcome.orphans))
    assert outcome.destroyed == 1
    latecomer = aged_read(0.5, plate="LATE333")
    session.commit()
    late_file = add_image(session, latecomer)
    assert surviving_ids(session) == {ids["kept"], latecomer.id}
    digests = set(session.scalars(select(AcpDestroyedRead.key_hmac)))
    assert digests

    session.close()
    restored = _restore(keeper, backup)

    assert not (Path(keeper.config["INSTANCE_PATH"]) / RESTORE_MARKER).exists()
    assert restored.reads_destroyed_again == 2
    assert restored.acp_digests_restored == len(digests)
    assert restored.missing_files == 0
    assert surviving_ids(session) == {ids["kept"]}, "neither destroyed read came back"
    assert set(session.scalars(select(AcpDestroyedRead.key_hmac))) == digests
    assert session.scalar(select(func.count()).where(Read.plate == "HIDE123")) == 0
    with context_app.app_context():
        assert not image_path(purged_file).exists()
        assert not image_path(participant_file).exists()
        assert not image_path(late_file).exists(), "a picture of a read the backup lacks"
        assert image_path(kept_file).exists()
    assert dangling_images(session) == [] and orphan_files(context_app, session) == []
    assert verify(session).ok
    (entry,) = entries(session, AuditAction.BACKUP_RESTORED)
    assert details(entry)["reads_destroyed_again"] == 2
    assert details(entry)["backup"] == backup.name
    assert not entries(session, AuditAction.BACKUP_CREATED), "entries after the backup are gone"
    for engine_owner in (app, context_app):
        engine_owner.extensions["alpr_engine"].dispose()


def test_the_app_serves_nobody_while_a_restore_is_pending(app):
    marker = Path(app.config["INSTANCE_PATH"]) / RESTORE_MARKER
    marker.write_text("alpr-20261201T000000Z.dump")
    try:
        for path in ("/", "/healthz", "/api/v1/reads"):
            response = app.test_client().get(path)
            assert response.status_code == 503, path
            assert response.headers["Retry-After"] == "60"
    finally:
        marker.unlink()
    assert app.test_client().get("/healthz").status_code == 200


def test_no_backup_outlives_the_retention_period(app, session, keeper, tmp_path):
    folder = Path(keeper.config["BACKUP_DIR"])
    folder.mkdir(mode=0o700)
    now = utcnow()
    names = {
        days: f"alpr-{now - timedelta(days=days, hours=1):%Y%m%dT%H%M%SZ}.dump"
        for days in (1, 59, 60, 90)
    }
    for name in names.values():
        (folder / name).write_bytes(b"")
    (folder / "notes.txt").write_text("not a backup")
    path = Path(keeper.config["DESTRUCTION_LEDGER"])
    path.parent.mkdir()
    stamp = now.isoformat()
    old = {"kind": "reads", "at": (now - timedelta(days=61)).isoformat(), "ids": [1]}
    path.write_text(json.dumps(old) + "\n")
    ledger.append(path, "reads", ids=[2], **{"from": stamp, "to": stamp})

    removed = prune_backups(
        keeper.extensions["alpr_sessionmaker"], folder, path, keeper.config["RETENTION_DAYS"]
    )

    assert sorted(removed) == sorted([names[60], names[90]])
    assert sorted(p.name for _, p in list_backups(folder)) == sorted([names[1], names[59]])
    assert (folder / "notes.txt").exists()
    assert [entry["ids"] for entry in ledger.entries(path)] == [[2]]
    assert os.stat(path).st_mode & 0o777 == 0o600
    (entry,) = entries(session, AuditAction.BACKUPS_PRUNED)
    assert details(entry)["ledger_entries"] == 1


def test_a_torn_last_line_of_the_ledger_is_skipped(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ledger.append(path, "reads", ids=[1])
    with path.open("a") as torn:
        torn.write('{"kind": "reads", "at": "2026-12')
    assert [entry["kind"] for entry in ledger.entries(path)] == ["reads"]


def test_the_backup_commands_take_list_and_restore_a_backup(app, session, keeper):
    read = aged_read(1, plate="CLI1234")
    session.commit()
    runner = keeper.test_cli_runner()
    # Flask's CLI runs in the current app context, and `session` has pushed the shared app's
    # (whose ledger other tests' destructions fill): the commands run in the keeper's own.
    with keeper.app_context():
        created = runner.invoke(args=["backup", "create"])
        assert created.exit_code == 0, created.output
        assert "0 backups past retention deleted" in created.output
        (listed,) = runner.invoke(args=["backup", "list"]).output.splitlines()
        backup = Path(listed.split()[-1])
        refused = runner.invoke(args=["backup", "restore", str(backup)], input="n\n")
        assert refused.exit_code != 0 and surviving_ids(session) == {read.id}
        session.close()
        restored = runner.invoke(args=["backup", "restore", str(backup), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert ": 0 reads destroyed again, 0 purged" in restored.output
    assert surviving_ids(session) == {read.id}
    assert verify(session).ok
    app.extensions["alpr_engine"].dispose()
