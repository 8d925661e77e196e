"""Migrations keep the data: reads, their pictures and hits survive the day-partitioning
revision up and down, on the test run's database engine (SQLite or PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from tests.conftest import BACKEND, PG_ADMIN_URL, ROOT

BEFORE_PARTITIONS = "24ce9d26a85d"


@pytest.fixture
def captured() -> datetime:
    """When the seeded rows were captured: three days before the test runs, a day the migration
    makes a partition for (it counts from its own today, so not a time taken at import)."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)


def _stamp(captured: datetime) -> datetime:
    """`captured` as the engine stores it (SQLite keeps naive UTC)."""
    return captured if BACKEND == "postgres" else captured.replace(tzinfo=None)


@pytest.fixture
def scratch_url(tmp_path) -> Iterator[str]:
    """An empty database of the run's engine, dropped afterwards."""
    if BACKEND != "postgres":
        yield f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        return
    name = f"alpr_migrate_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _alembic(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def _seed(url: str, captured: datetime) -> None:
    """A camera's read with a picture and a hit, written as the old schema had them."""
    engine = create_engine(url)
    stamp = _stamp(captured)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO devices (id, serial, kind, description, status, created_at) "
                "VALUES (1, 'MIG-1', 'mobile', '', 'active', :t)"
            ),
            {"t": stamp},
        )
        conn.execute(
            text(
                "INSERT INTO hotlist_sources (id, name, kind, entry_count, created_at) "
                "VALUES (1, 'mn', 'mn_plate_file', 0, :t)"
            ),
            {"t": stamp},
        )
        conn.execute(
            text(
                "INSERT INTO reads (id, device_id, plate, captured_at, latitude, longitude, "
                "client_read_id, plate_status, received_at) "
                "VALUES (7, 1, 'MIG123', :t, 44.0, -91.6, 'c-7', 'reported', :t)"
            ),
            {"t": stamp},
        )
        conn.execute(
            text(
                "INSERT INTO read_images (id, read_id, kind, sha256, content_type, byte_size, "
                "width, height, created_at) VALUES (3, 7, 'plate', :d, 'image/png', 1, 1, 1, :t)"
            ),
            {"t": stamp, "d": "a" * 64},
        )
        conn.execute(
            text(
                "INSERT INTO hits (id, read_id, source_id, category, status, created_at, "
                "updated_at) VALUES (5, 7, 1, 'warrant', 'new', :t, :t)"
            ),
            {"t": stamp},
        )
    engine.dispose()


def _rows(url: str) -> tuple:
    engine = create_engine(url)
    with engine.connect() as conn:
        reads = conn.execute(text("SELECT id, plate, client_read_id FROM reads")).all()
        images = conn.execute(text("SELECT id, read_id FROM read_images")).all()
        hits = conn.execute(text("SELECT id, read_id FROM hits")).all()
    engine.dispose()
    return [tuple(r) for r in reads], [tuple(i) for i in images], [tuple(h) for h in hits]


def test_partitioning_revision_keeps_reads_pictures_and_hits_both_ways(scratch_url, captured):
    cfg = _alembic(scratch_url)
    command.upgrade(cfg, BEFORE_PARTITIONS)
    _seed(scratch_url, captured)
    expected = ([(7, "MIG123", "c-7")], [(3, 7)], [(5, 7)])

    command.upgrade(cfg, "head")
    assert _rows(scratch_url) == expected
    command.check(cfg)  # the models and the migrated schema agree
    engine = create_engine(scratch_url)
    with engine.begin() as conn:
        stored_at = conn.execute(text("SELECT read_captured_at FROM hits")).scalar_one()
        if BACKEND == "postgres":
            assert stored_at == captured
            owner = conn.execute(text("SELECT tableoid::regclass::text FROM reads")).scalar()
            assert owner == f"reads_p{captured:%Y%m%d}"
            conn.execute(
                text(
                    "INSERT INTO reads (device_id, plate, captured_at, latitude, longitude, "
                    "plate_status, received_at) VALUES (1, 'NEXT1', now(), 1, 1, 'reported', now())"
                )
            )
            new_id = conn.execute(text("SELECT id FROM reads WHERE plate = 'NEXT1'")).scalar()
            assert new_id > 7, "the id sequence carried over"
            conn.execute(text("DELETE FROM reads WHERE plate = 'NEXT1'"))
        else:
            assert stored_at is not None
    engine.dispose()

    command.downgrade(cfg, BEFORE_PARTITIONS)
    assert _rows(scratch_url) == expected
    command.upgrade(cfg, "head")
    assert _rows(scratch_url) == expected


def test_autogenerate_writes_app_column_types_as_plain_sqlalchemy(scratch_url, tmp_path):
    """env.py renders app.db.UTCDateTime as its impl, so a new revision imports no app code."""
    from tests.unit.test_migration_files import application_imports

    versions = tmp_path / "versions"
    versions.mkdir()
    cfg = _alembic(scratch_url)
    cfg.set_main_option("version_locations", str(versions))  # no revisions: the database is new
    command.revision(cfg, message="every table", autogenerate=True)

    (written,) = versions.glob("*.py")
    source = written.read_text()
    assert "op.create_table('reads'" in source
    assert "sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False)" in source
    assert "UTCDateTime" not in source
    assert application_imports(source) == []
    compile(source, str(written), "exec")


def test_checkpoint_revision_rehashes_the_chain_to_cover_row_ids_both_ways(scratch_url):
    from sqlalchemy.orm import Session

    from app.audit.actions import AuditAction
    from app.audit.services import record, verify

    cfg = _alembic(scratch_url)
    command.upgrade(cfg, "head")
    engine = create_engine(scratch_url)
    with Session(engine) as session:
        for n in range(4):
            record(session, "test", AuditAction.USER_CREATED, ("user", n), {"n": n})
        session.commit()
        assert verify(session).ok
    command.downgrade(cfg, "3b7e2f1c9d40")
    with Session(engine) as session:
        result = verify(session)
        assert not result.ok and result.first_bad_seq == 1, "old links do not cover the id"
    command.upgrade(cfg, "head")
    with Session(engine) as session:
        result = verify(session)
        assert result.ok and result.entries == 4
    engine.dispose()


BEFORE_DISPOSITION = "3b7e2f1c9d40"


def _cases(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT case_number, status FROM investigations ORDER BY id"))
        found = [tuple(row) for row in rows]
    engine.dispose()
    return found


def _execute(url: str, sql: str, **params: object) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(sql), params)
    engine.dispose()


def test_the_disposition_revision_keeps_what_closes_released_and_waiting_cases_safe(
    scratch_url, captured
):
    """Cases closed before it had their holds released: they stay released. A downgrade would
    end a waiting case's holds, so it is refused while one exists."""
    cfg = _alembic(scratch_url)
    command.upgrade(cfg, BEFORE_DISPOSITION)
    stamp = _stamp(captured)
    _execute(
        scratch_url,
        "INSERT INTO investigations (id, case_number, title, status, opened_on, closed_on, "
        "closing_reason, created_at) VALUES "
        "(1, 'M-1', 'closed before', 'closed', '2026-01-01', '2026-02-01', 'done', :t), "
        "(2, 'M-2', 'active', 'active', '2026-01-01', NULL, NULL, :t)",
        t=stamp,
    )

    command.upgrade(cfg, "head")
    assert _cases(scratch_url) == [("M-1", "released"), ("M-2", "active")]

    _execute(
        scratch_url,
        "UPDATE investigations SET status = 'closed', closed_on = '2026-03-01' WHERE id = 2",
    )
    with pytest.raises(RuntimeError, match="await their disposition"):
        command.downgrade(cfg, BEFORE_DISPOSITION)
    assert _cases(scratch_url) == [("M-1", "released"), ("M-2", "closed")]

    _execute(scratch_url, "UPDATE investigations SET status = 'released' WHERE id = 2")
    command.downgrade(cfg, BEFORE_DISPOSITION)
    assert _cases(scratch_url) == [("M-1", "closed"), ("M-2", "closed")]


BEFORE_VERIFICATION_OUTCOMES = "3b7e2f1c9d40"
#: id → (status, impracticable reason, enforcement action) as the old workflow left hits.
OLD_HITS = {
    5: ("new", None, None),  # _seed's
    6: ("not_confirmed", None, None),
    7: ("not_confirmed", "radio down", "Felony stop"),
    8: ("new", "suspect fleeing", "Traffic stop"),
    9: ("confirmed", None, None),
    10: ("closed", "radio down", "Arrest"),
}


def _hit_statuses(url: str) -> dict[int, str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, status FROM hits")).all()
    engine.dispose()
    return dict(rows)


def test_hit_statuses_migrate_to_the_verification_outcomes_and_back(scratch_url, captured):
    """Acted on unverified → impracticable; otherwise not confirmed → verified not valid."""
    cfg = _alembic(scratch_url)
    command.upgrade(cfg, BEFORE_PARTITIONS)
    _seed(scratch_url, captured)
    engine = create_engine(scratch_url)
    stamp = _stamp(captured)
    with engine.begin() as conn:
        for hit_id, (status, reason, action) in OLD_HITS.items():
            if hit_id == 5:
                continue
            conn.execute(
                text(
                    "INSERT INTO hits (id, read_id, source_id, category, status, "
                    "impracticable_reason, enforcement_action, closing_note, created_at, "
                    "updated_at) VALUES (:id, 7, 1, 'warrant', :status, :reason, :action, "
                    ":note, :t, :t)"
                ),
                {
                    "id": hit_id,
                    "status": status,
                    "reason": reason,
                    "action": action,
                    "note": "done" if status == "closed" else None,
                    "t": stamp,
                },
            )
    engine.dispose()

    command.upgrade(cfg, "head")
    assert _hit_statuses(scratch_url) == {
        5: "new",
        6: "not_valid",
        7: "impracticable",
        8: "impracticable",
        9: "confirmed",
        10: "closed",
    }
    command.check(cfg)

    command.downgrade(cfg, BEFORE_VERIFICATION_OUTCOMES)
    assert _hit_statuses(scratch_url) == {
        5: "new",
        6: "not_confirmed",
        7: "new",
        8: "new",
        9: "confirmed",
        10: "closed",
    }
