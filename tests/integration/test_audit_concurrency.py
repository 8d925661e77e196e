"""Eight processes append at once: the chain stays one line and verifies."""

from __future__ import annotations

import multiprocessing

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.audit.services import record, verify
from app.db import make_engine

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
    total = PROCESSES * ENTRIES_EACH
    assert session.scalar(select(func.count(AuditEntry.id))) == total
    seqs = list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
    assert seqs == list(range(1, total + 1))
    labels = set(session.scalars(select(AuditEntry.actor_label)))
    assert labels == {f"worker-{w}" for w in range(PROCESSES)}
    result = verify(session)
    assert result.ok, result.describe()
    assert result.entries == total
