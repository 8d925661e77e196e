"""Release jobs (425.7): build packages, expire them past their link, send the outbox's mail.

The build runs as an RQ job (in-process without Redis) and commits its progress after each
batch, which the request's page polls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from app.db import utcnow
from app.jobs.models import JobRun
from app.jobs.services import report_progress, run_tracked
from app.requests.cover_letter import cover_letter_pdf
from app.requests.letters import remove_stale_letters
from app.requests.models import ReleasePackage
from app.requests.notifications import send_outbox
from app.requests.packages import JOB_NAME, build_package, expire_packages
from workers.context import with_app_context


def _sessions() -> Session:
    return current_app.extensions["alpr_sessionmaker"]()


@with_app_context
def build_release_package(package_id: int, run_id: int | None = None) -> dict[str, Any]:
    """Build one package; its JobRun's progress moves with each batch of reads."""

    def work(session: Session, run: JobRun) -> dict[str, Any]:
        def progress(done: int, total: int) -> None:
            report_progress(run, done, total)
            session.commit()

        package = session.get_one(ReleasePackage, package_id)
        build_package(
            session,
            package,
            store=current_app.config["RELEASE_STORE"],
            link_days=current_app.config["RELEASE_LINK_DAYS"],
            cover_letter=cover_letter_pdf,
            progress=progress,
        )
        return {
            "package_id": package.id,
            "read_count": package.read_count,
            "image_count": package.image_count,
            "sha256": package.sha256,
        }

    outcome = run_tracked(_sessions, JOB_NAME, run_id, work)
    send_outbox_mail()
    return outcome


@with_app_context
def send_outbox_mail(run_id: int | None = None) -> dict[str, Any]:
    """Send the outbox by SMTP when a server is configured (every 5 minutes, and after a step)."""

    def work(session: Session, run: JobRun) -> dict[str, Any]:
        return send_outbox(
            session, current_app.config.get("SMTP_URL"), current_app.config["MAIL_FROM"]
        )

    return run_tracked(_sessions, "send_outbox_mail", run_id, work)


@with_app_context
def expire_release_packages(run_id: int | None = None) -> dict[str, Any]:
    """Hourly: delete the files of packages whose link expired, and stale staged letters."""
    doomed: list[Path] = []

    def work(session: Session, run: JobRun) -> dict[str, Any]:
        doomed.extend(expire_packages(session, current_app.config["RELEASE_STORE"], utcnow()))
        letters = remove_stale_letters(session)
        return {"expired_files": len(doomed), "stale_letters": letters}

    outcome = run_tracked(_sessions, "expire_release_packages", run_id, work)
    for path in doomed:
        path.unlink(missing_ok=True)
    return outcome
