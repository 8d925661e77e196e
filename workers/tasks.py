"""Job functions: take ids, open their own session, commit once (RQ and in-process alike)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from app.audit.checkpoints import sign_checkpoint
from app.audit.services import sequence, verify_and_record
from app.core.timeutil import local_today
from app.db import utcnow
from app.jobs.models import JobRun
from app.jobs.services import run_tracked
from app.reports.services import check_compliance
from workers.context import with_app_context


def _sessions() -> Session:
    return current_app.extensions["alpr_sessionmaker"]()


@with_app_context
def verify_audit_chain(run_id: int | None = None) -> dict[str, Any]:
    """Scheduled check of the hash chain; the outcome becomes an audit entry staff can see."""

    def work(session: Session, run: JobRun) -> dict[str, Any]:
        result = verify_and_record(session, "system:verify-job")
        return {"ok": result.ok, "entries": result.entries, "first_bad_id": result.first_bad_id}

    return run_tracked(_sessions, "verify_audit_chain", run_id, work)


@with_app_context
def sequence_audit_entries(run_id: int | None = None) -> dict[str, Any]:
    """Each minute: chain entries a process left unchained (killed before its after-commit run)."""

    def work(session: Session, run: JobRun) -> dict[str, Any]:
        session.rollback()  # hold no transaction (SQLite's write lock) while the sequencer runs
        return {"chained": sequence(current_app.extensions["alpr_engine"])}

    return run_tracked(_sessions, "sequence_audit_entries", run_id, work)


@with_app_context
def sign_audit_checkpoint(run_id: int | None = None) -> dict[str, Any]:
    """Daily: sign the chain's head, so a saved copy proves any later rewrite (fails loudly)."""

    def work(session: Session, run: JobRun) -> dict[str, Any]:
        checkpoint = sign_checkpoint(session, "system:checkpoint-job")
        return {"seq": checkpoint.seq, "head_hash": checkpoint.head_hash}

    return run_tracked(_sessions, "sign_audit_checkpoint", run_id, work)


@with_app_context
def check_compliance_counters(run_id: int | None = None) -> dict[str, Any]:
    """Hourly: the seven counters, recorded, so the Deputy Chief's home page shows any above 0."""

    def work(session: Session, run: JobRun) -> dict[str, Any]:
        counters = check_compliance(
            session,
            "system:compliance-job",
            utcnow(),
            retention_days=current_app.config["RETENTION_DAYS"],
            today=local_today(),
        )
        return {counter.key: counter.count for counter in counters}

    return run_tracked(_sessions, "check_compliance_counters", run_id, work)
