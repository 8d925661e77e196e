"""Retention jobs (425.5): the daily purge and the destruction of an ACP participant's data."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from app.audit.checkpoints import CheckpointError, sign_checkpoint
from app.auth.models import User
from app.db import utcnow
from app.jobs.models import JobRun
from app.jobs.services import report_progress, run_tracked
from app.retention.acp.lifecycle import destroy_existing_acp_data
from app.retention.destruction import finish_tombstones
from app.retention.models import AcpRequest
from app.retention.purge import destroy_expired_reads
from workers.context import with_app_context

PURGE_ACTOR = "system:purge"


def _sessions() -> Session:
    return current_app.extensions["alpr_sessionmaker"]()


@with_app_context
def purge_expired_reads(run_id: int | None = None) -> dict[str, Any]:
    """Daily: destroy every read the retention rule condemns now, in PURGE_BATCH_SIZE batches."""

    def work(session: Session, run: JobRun) -> dict[str, Any]:
        # The purge commits through sessions of its own, one a day or batch. This one must
        # hold no transaction meanwhile: on SQLite every transaction begins IMMEDIATE, so an
        # open one would keep the write lock from them. The JobRun row is written afterwards.
        session.rollback()
        outcome = destroy_expired_reads(
            _sessions,
            PURGE_ACTOR,
            utcnow(),
            current_app.config["PURGE_BATCH_SIZE"],
            retention_days=current_app.config["RETENTION_DAYS"],
        ).as_dict()
        # A checkpoint after each purge pins the destruction records where the public sees them.
        try:
            outcome["checkpoint_seq"] = sign_checkpoint(session, PURGE_ACTOR).seq
        except CheckpointError as exc:
            outcome["checkpoint_refused"] = str(exc)
        return outcome

    return run_tracked(_sessions, "purge_expired_reads", run_id, work)


@with_app_context
def destroy_acp_existing_data(
    request_id: int, actor_user_id: int | None, run_id: int | None = None
) -> dict[str, Any]:
    """Destroy an ACP participant's existing reads now (deferring held ones), then the files.

    The destruction and its audit entry commit first; the image files are removed after, so a
    crash in between leaves tombstones that the next purge finishes.
    """

    def work(session: Session, run: JobRun) -> dict[str, Any]:
        request = session.get_one(AcpRequest, request_id)
        actor = session.get(User, actor_user_id) if actor_user_id else None
        outcome = destroy_existing_acp_data(session, actor or "system:acp-destroy", request)
        # One transaction: the counts become visible with the destruction itself.
        report_progress(
            run, outcome.destroyed + outcome.deferred, outcome.destroyed + outcome.deferred
        )
        session.commit()
        files = finish_tombstones(_sessions, outcome.orphans)
        return {
            "acp_request_id": request_id,
            "destroyed": outcome.destroyed,
            "images": outcome.images,
            "deferred": outcome.deferred,
            "files_removed": files,
        }

    return run_tracked(_sessions, "destroy_acp_existing_data", run_id, work)
