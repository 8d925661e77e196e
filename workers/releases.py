"""Release jobs (425.7): build packages, expire them past their link, send the outbox's mail.

The build runs as an RQ job (in-process without Redis) and commits its progress after each
batch, which the request's page polls. The cover letter is rendered here, where the app's
templates are, and turned into a PDF by WeasyPrint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app
from jinja2 import Environment
from sqlalchemy.orm import Session

from app.db import utcnow
from app.jobs.models import JobRun
from app.jobs.services import run_tracked
from app.requests.letters import remove_stale_letters
from app.requests.models import ReleasePackage
from app.requests.notifications import SmtpSettings, send_outbox
from app.requests.packages import JOB_NAME, build_package, expire_packages
from workers.context import with_app_context


def _sessions() -> Session:
    return current_app.extensions["alpr_sessionmaker"]()


def cover_letter_pdf(templates: Environment, facts: dict[str, Any]) -> bytes:
    """The cover letter (templates/requests/cover_letter.html) as a PDF, by WeasyPrint.

    Rendered with a template environment alone: no request, no signed-in user and no context
    processor (the navigation) belong in a letter, nor the session those would open.
    WeasyPrint switches Pillow to accept truncated images for the whole process when it is
    first imported; the setting is put back, or the image store and the letter check would
    take damaged pictures for whole ones.
    """
    from PIL import ImageFile

    accepts_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    from weasyprint import HTML

    ImageFile.LOAD_TRUNCATED_IMAGES = accepts_truncated
    html = templates.get_template("requests/cover_letter.html").render(**facts)
    return HTML(string=html).write_pdf()


def render_cover_letter(facts: dict[str, Any]) -> bytes:
    """The cover letter, from the app's templates."""
    return cover_letter_pdf(current_app.jinja_env, facts)


@with_app_context
def build_release_package(package_id: int, run_id: int | None = None) -> dict[str, Any]:
    """Build one package; its JobRun's progress moves with each batch of reads."""

    def work(session: Session, run: JobRun) -> dict[str, Any]:
        def progress(percent: int) -> None:
            run.progress = percent
            session.commit()

        package = session.get_one(ReleasePackage, package_id)
        build_package(
            session,
            package,
            store=current_app.config["RELEASE_STORE"],
            link_days=current_app.config["RELEASE_LINK_DAYS"],
            cover_letter=render_cover_letter,
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
def send_outbox_mail() -> dict[str, Any]:
    """Send the outbox by SMTP when a server is configured (every few minutes, and after a step).

    Not tracked by a JobRun: it runs often, and each message's row records its own outcome.
    """
    with _sessions() as session:
        return send_outbox(session, SmtpSettings.from_config(current_app.config))


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
