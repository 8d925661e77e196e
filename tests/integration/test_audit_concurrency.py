"""Many writers, one sequencer: the chain stays one line, verifies, and nothing waits unseen.

Entries are written unchained in their action's transaction and chained by the sequencer
(app/audit/services.py): after each commit on PostgreSQL, at once on SQLite, and by the job.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import sessionmaker

from app.audit import services
from app.audit.actions import AuditAction
from app.audit.models import AuditChainHead, AuditDetail, AuditEntry
from app.audit.services import (
    AUDIT_LOCK_KEY,
    UNCHAINED_ALARM,
    canonical_json,
    details_digest,
    record,
    sequence,
    unchained,
    verify,
)
from app.auth.models import Role
from app.db import make_engine, utcnow
from tests.conftest import BACKEND

PROCESSES = 8
ENTRIES_EACH = 500


def _append_many(url: str, worker: int, count: int) -> None:
    import app.models  # noqa: F401  (a spawned process must load the whole schema)

    engine = make_engine(url)
    factory = sessionmaker(bind=engine)
    for n in range(count):
        with factory() as session:
            record(session, f"worker-{worker}", AuditAction.SEARCH_PERFORMED, None, {"n": n})
            session.commit()
    engine.dispose()


def test_parallel_appends_form_one_linear_chain(app, session):
    url = app.config["DATABASE_URL"]
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_append_many, args=(url, worker, ENTRIES_EACH))
        for worker in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
        assert process.exitcode == 0
    # What the writers' after-commit runs left (a writer that found the lock taken at the very
    # end) is the scheduled job's: it runs here as it would a minute later.
    sequence(app.extensions["alpr_engine"])
    total = PROCESSES * ENTRIES_EACH
    assert session.scalar(select(func.count(AuditEntry.id))) == total
    seqs = list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
    assert seqs == list(range(1, total + 1))
    labels = set(session.scalars(select(AuditEntry.actor_label)))
    assert labels == {f"worker-{w}" for w in range(PROCESSES)}
    result = verify(session)
    assert result.ok, result.describe()
    assert result.entries == total and result.unchained == 0
    # Each writer's entries keep the order it wrote them in.
    for worker in range(PROCESSES):
        mine = session.execute(
            select(AuditEntry.seq, AuditEntry.id)
            .where(AuditEntry.actor_label == f"worker-{worker}")
            .order_by(AuditEntry.seq)
        ).all()
        assert [row.id for row in mine] == sorted(row.id for row in mine)


def _left_unchained(session, count: int = 1, *, age: timedelta = timedelta(0), entry_id=None):
    """Entries as a writer killed before its after-commit run leaves them: committed, unlinked."""
    made = []
    for n in range(count):
        details = canonical_json({"n": n})
        entry = AuditEntry(
            id=entry_id,
            occurred_at=utcnow() - age,
            actor_user_id=None,
            actor_label="killed-writer",
            action=AuditAction.SEARCH_PERFORMED.value,
            subject_type=None,
            subject_id=None,
            details_digest=details_digest(details),
        )
        entry.detail = AuditDetail(details_json=details)
        session.add(entry)
        made.append(entry)
    session.commit()
    return made


def test_an_action_rolled_back_leaves_no_entry(session):
    record(session, "test", AuditAction.USER_CREATED, ("users", 1), {"n": 1})
    session.commit()
    record(session, "test", AuditAction.USER_CREATED, ("users", 2), {"n": 2})
    session.rollback()
    record(session, "test", AuditAction.USER_CREATED, ("users", 3), {"n": 3})
    session.commit()
    rows = session.execute(select(AuditEntry.subject_id, AuditEntry.seq).order_by("seq")).all()
    assert [tuple(row) for row in rows] == [("1", 1), ("3", 2)]
    assert unchained(session).count == 0
    assert verify(session).ok


def test_two_sequencers_at_once_chain_each_entry_once(app, session):
    record(session, "test", AuditAction.USER_CREATED, None, {"first": True})
    session.commit()
    _left_unchained(session, 300)
    assert unchained(session).count == 300
    engine = app.extensions["alpr_engine"]
    counts: list[int] = []
    threads = [threading.Thread(target=lambda: counts.append(sequence(engine))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(counts) == 300
    session.rollback()
    result = verify(session)
    assert result.ok and result.entries == 301, result.describe()
    head = session.get(AuditChainHead, 1)
    # Idempotent: nothing left, nothing changes.
    assert sequence(engine) == 0
    session.refresh(head)
    assert (head.seq, verify(session).entries) == (301, 301)


def test_a_lower_id_committed_later_takes_the_next_seq(app, session):
    """Seq, not id, orders the chain: an entry committed after a run is chained after it."""
    late = _left_unchained(session, entry_id=50)[0]
    sequence(app.extensions["alpr_engine"])
    early_id = _left_unchained(session, entry_id=7)[0].id
    sequence(app.extensions["alpr_engine"])
    session.rollback()
    rows = session.execute(select(AuditEntry.id, AuditEntry.seq).order_by(AuditEntry.seq)).all()
    assert [tuple(row) for row in rows] == [(late.id, 1), (early_id, 2)]
    assert verify(session).ok


def test_an_entry_unchained_past_the_bound_raises_the_alarm(app, client, session, login_as):
    # Signing in records (and so chains); the entry left behind comes after it.
    login_as(Role.AUDITOR, trained=True)
    waiting = _left_unchained(session, age=UNCHAINED_ALARM + timedelta(seconds=5))[0]
    found = unchained(session)
    assert (found.count, found.overdue, found.oldest_id) == (1, 1, waiting.id)
    alarm = found.alarm()
    assert alarm.startswith("1 audit entries unchained for more than 120 s")
    result = verify(session)
    assert not result.ok and result.first_bad_id == waiting.id and result.unchained == 1
    assert "seq=none (unchained)" in result.describe()
    assert client.get("/readyz").get_json()["checks"]["audit_unchained"] == alarm
    assert alarm in client.get("/").get_data(as_text=True)
    session.rollback()
    # The sequencer (the command, as the job each minute) chains it and the alarm ends.
    out = app.test_cli_runner().invoke(args=["audit", "sequence"])
    assert out.exit_code == 0 and "chained 1 entries" in out.output, out.output
    session.rollback()
    assert unchained(session).alarm() is None
    assert verify(session).ok
    assert "audit-unchained" not in client.get("/").get_data(as_text=True)


def test_the_sequence_command_fails_while_the_alarm_stands(app, session, monkeypatch):
    _left_unchained(session, age=UNCHAINED_ALARM * 2)
    monkeypatch.setattr("app.audit.cli.sequence", lambda engine: 0)  # a sequencer that is stuck
    out = app.test_cli_runner().invoke(args=["audit", "sequence"])
    assert out.exit_code == 1 and "unchained for more than" in out.output


def test_a_fresh_unchained_entry_is_waiting_not_an_alarm(session):
    record(session, "test", AuditAction.USER_CREATED, None, {})
    session.commit()
    _left_unchained(session, 2)
    result = verify(session)
    assert result.ok and result.unchained == 2
    assert result.describe() == "audit chain intact: 1 entries verified; 2 newer not chained yet"


def test_the_job_chains_what_a_killed_writer_left(app, session):
    from workers import tasks

    _left_unchained(session, 3)
    with app.app_context():
        assert tasks.sequence_audit_entries() == {"chained": 3}
    session.rollback()
    assert verify(session).ok and unchained(session).count == 0


def test_verification_chains_what_waits_first(app, session):
    _left_unchained(session, 2)
    out = app.test_cli_runner().invoke(args=["audit", "verify", "--no-record"])
    assert out.exit_code == 0 and "intact: 2 entries verified" in out.output, out.output


def test_a_pending_entry_shows_as_pending_and_newest_on_the_public_page(make_app, session):
    record(session, "test", AuditAction.USER_CREATED, None, {})
    session.commit()
    _left_unchained(session)
    published = make_app(PUBLISH_AUDIT_TRAIL=True).test_client()
    html = published.get("/public/audit").get_data(as_text=True)
    assert html.index('<td data-label="#">pending</td>') < html.index('<td data-label="#">1</td>')


def test_taking_an_entry_out_of_the_chain_is_caught(session):
    entries = [record(session, "t", AuditAction.USER_CREATED, None, {"n": n}) for n in range(4)]
    session.commit()
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.id == entries[1].id)
        .values(seq=None, prev_hash=None, entry_hash=None)
    )
    session.commit()
    result = verify(session)
    assert not result.ok and result.first_bad_id == entries[2].id and "gap" in result.reason


def test_with_a_sequencer_process_commits_leave_the_chaining_to_it(make_app, session):
    """ALPR_AUDIT_SEQUENCER=process: PostgreSQL commits only write; SQLite still chains inline."""
    busy = make_app(AUDIT_SEQUENCER_PROCESS=True)
    with busy.extensions["alpr_sessionmaker"]() as writer:
        record(writer, "writer", AuditAction.USER_CREATED, None, {})
        writer.commit()
    postgres = session.get_bind().dialect.name == "postgresql"
    assert unchained(session).count == (1 if postgres else 0)
    session.rollback()
    assert sequence(busy.extensions["alpr_engine"]) == (1 if postgres else 0)
    result = verify(session)
    assert result.ok and result.entries == 1 and result.unchained == 0


def test_a_failing_after_commit_run_never_undoes_or_fails_the_action(app, session, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("app.audit.services.sequence", broken)
    monkeypatch.setattr("app.audit.services._pg_chain_after_commit", broken)
    record(session, "test", AuditAction.USER_CREATED, None, {})
    session.commit()  # does not raise: the action is committed
    monkeypatch.undo()
    session.rollback()
    assert session.scalar(select(func.count(AuditEntry.id))) == 1
    sequence(app.extensions["alpr_engine"])
    session.rollback()
    assert verify(session).entries == 1


postgres_only = pytest.mark.skipif(
    BACKEND != "postgres",
    reason="SQLite chains inside the action's transaction: no after-commit run",
)


def _lock_is_free(engine) -> bool:
    with engine.connect() as conn:
        free = conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": AUDIT_LOCK_KEY})
        if free:
            conn.scalar(text("SELECT pg_advisory_unlock(:k)"), {"k": AUDIT_LOCK_KEY})
        return free


@postgres_only
def test_a_commit_that_finds_the_lock_taken_leaves_its_entry_to_the_holder(
    app, session, monkeypatch
):
    """The holder looks again after releasing the lock, so what was left to it is chained."""
    engine = app.extensions["alpr_engine"]
    link_held = services._pg_link_held
    meanwhile: list[int] = []

    def holder_links(pg):
        linked = link_held(pg)
        if not meanwhile:  # another writer commits while this run holds the lock
            with app.extensions["alpr_sessionmaker"]() as writer:
                entry = record(writer, "other", AuditAction.USER_CREATED, None, {})
                writer.commit()
                meanwhile.append(entry.id)
            with engine.connect() as conn:  # its own after-commit run found the lock taken
                left = conn.scalar(select(AuditEntry.seq).where(AuditEntry.id == meanwhile[0]))
            assert left is None
        return linked

    monkeypatch.setattr(services, "_pg_link_held", holder_links)
    record(session, "holder", AuditAction.USER_CREATED, None, {})
    session.commit()
    monkeypatch.undo()
    session.rollback()
    assert unchained(session).count == 0
    rows = session.execute(select(AuditEntry.actor_label, AuditEntry.seq).order_by("seq")).all()
    assert [tuple(row) for row in rows] == [("holder", 1), ("other", 2)]
    assert verify(session).ok
    assert _lock_is_free(engine)


@postgres_only
def test_a_head_that_moved_rolls_back_the_whole_batch_and_frees_the_lock(
    app, session, monkeypatch, caplog
):
    """Links and the head's move commit together or not at all; the action stands either way."""
    engine = app.extensions["alpr_engine"]
    record(session, "first", AuditAction.USER_CREATED, None, {})
    session.commit()
    # A head read that is not the head, as a run without the lock could read it.
    monkeypatch.setattr(
        services, "_PG_HEAD", "SELECT seq + 5, entry_hash FROM audit_chain_head WHERE id = 1"
    )
    with caplog.at_level(logging.WARNING, logger="app.audit.services"):
        entry = record(session, "second", AuditAction.USER_CREATED, None, {})
        session.commit()
    assert "the chain head moved" in caplog.text
    monkeypatch.undo()
    session.rollback()
    assert session.scalar(select(AuditEntry.seq).where(AuditEntry.id == entry.id)) is None
    assert session.get(AuditChainHead, 1).seq == 1
    assert _lock_is_free(engine)
    assert sequence(engine) == 1
    session.rollback()
    result = verify(session)
    assert result.ok and result.entries == 2, result.describe()


@postgres_only
def test_a_session_inside_an_outer_transaction_leaves_its_entry_to_the_next_run(app):
    """Its connection is not free after its commit: the after-commit run takes a pooled one."""
    engine = app.extensions["alpr_engine"]
    with engine.connect() as conn:
        outer = conn.begin()
        with sessionmaker(bind=conn, join_transaction_mode="create_savepoint")() as inner:
            record(inner, "inner", AuditAction.USER_CREATED, None, {})
            inner.commit()
        outer.commit()
    assert sequence(engine) == 1
    with sessionmaker(bind=engine)() as session:
        result = verify(session)
        assert result.ok and result.entries == 1
