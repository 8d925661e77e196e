"""The daily BCA notice job (425.4.1(d)): open any notice owed, report the overdue ones."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from app.bca.services import (
    BCA_ACTOR,
    flag_overdue_notices,
    open_owed_notices,
    overdue_watchers,
)
from app.core.mail import send_mail
from app.core.timeutil import local_today
from app.jobs.models import JobRun
from app.jobs.services import run_tracked
from workers.context import with_app_context


def _sessions() -> Session:
    return current_app.extensions["alpr_sessionmaker"]()


@with_app_context
def flag_overdue_bca_notices(run_id: int | None = None) -> dict[str, Any]:
    """Daily: open the notices any event still owes, flag those past due (once each).

    Every overdue notice stays on the home page of the Deputy Chief and the ALPR
    administrators until it is sent; newly overdue ones are logged and, when ``ALPR_SMTP_URL``
    is set, mailed to those accounts after the commit.
    """
    mail: dict[str, Any] = {}

    def work(session: Session, run: JobRun) -> dict[str, Any]:
        today = local_today()
        opened = open_owed_notices(session, BCA_ACTOR)
        flagged = flag_overdue_notices(session, BCA_ACTOR, today)
        lines = [
            f"#{n.id} {n.event_label.lower()}, device {n.device.serial}: due {n.due_on}"
            for n in flagged
        ]
        mail.update(lines=lines, recipients=overdue_watchers(session) if lines else [])
        return {
            "run_id": run.id,
            "opened": len(opened),
            "flagged_overdue": [n.id for n in flagged],
            "today": today.isoformat(),
        }

    result = run_tracked(_sessions, "flag_overdue_bca_notices", run_id, work)
    if mail["lines"]:
        current_app.logger.warning("BCA notices overdue: %s", "; ".join(mail["lines"]))
        _mail_overdue(mail["recipients"], mail["lines"])
    return result


def _mail_overdue(recipients: list[str], lines: list[str]) -> None:
    """Tell the Deputy Chief and the administrators by e-mail, when the installation mails."""
    smtp_url = current_app.config.get("SMTP_URL")
    if not smtp_url or not recipients:
        return
    body = (
        "These notices to the Bureau of Criminal Apprehension are past the 10-day limit of "
        "policy 425.4.1(d) (Minn. Stat. § 13.824 subd. 8):\n\n"
        + "\n".join(lines)
        + "\n\nRecord each as sent on the BCA notices page once it has gone.\n"
    )
    try:
        send_mail(
            smtp_url,
            current_app.config["MAIL_FROM"],
            recipients,
            f"{len(lines)} BCA notice(s) overdue",
            body,
        )
    except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
        current_app.logger.error("overdue BCA notices could not be mailed: %s", exc)
