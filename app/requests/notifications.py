"""Notices to agencies (425.7): an email to the requester at each decision, kept in an outbox.

Every notice is an :class:`OutboxMessage` written in the same transaction as the step it tells
of, so a step is never told without being taken, nor taken without its notice. A job sends the
outbox by SMTP when ``ALPR_SMTP_URL`` is set (:func:`app.core.mail.send_mail`); without it the
messages wait in the outbox, whose page an administrator reads. Refused sends are retried by the
next run, at most :data:`MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import smtplib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.mail import send_mail
from app.core.timeutil import format_local
from app.db import utcnow
from app.requests.models import AgencyRequest, OutboxMessage, ReleasePackage

MAX_ATTEMPTS = 5
SEND_BATCH = 100
SIGNATURE = "\n\n— Winona Police Department, ALPR Records (policy 425.7)\n"


def queue_message(
    session: Session,
    *,
    kind: str,
    recipient: str,
    subject: str,
    body: str,
    request_id: int | None = None,
) -> OutboxMessage:
    """Put a message in the outbox (flushed; sent after the commit by the mail job)."""
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        subject=subject[:300],
        body=body + SIGNATURE,
        request_id=request_id,
    )
    session.add(message)
    session.flush()
    return message


def _decision_text(request: AgencyRequest, kind: str) -> tuple[str, str] | None:
    head = f"ALPR data request {request.id} (your case {request.case_number})"
    if kind == "asked":
        return (
            f"{head}: the department asks for information",
            f"The department asks before deciding your request:\n\n{request.question}\n\n"
            "Answer it on the request's page in the agency portal.",
        )
    if kind == "approved":
        return (
            f"{head}: approved",
            f"Your request was approved on {format_local(request.decided_at)} for the active "
            f"criminal investigation {request.active_investigation}.\n\nFinding: "
            f"{request.finding}\n\nYou will be told when the release package can be "
            "downloaded from the agency portal.",
        )
    if kind == "denied":
        return (
            f"{head}: denied",
            f"Your request was denied on {format_local(request.decided_at)}.\n\nReason: "
            f"{request.decision_reason}",
        )
    if kind == "referred":
        return (
            f"{head}: referred to Records Maintenance and Release",
            "ALPR data is released under policy 425.7 only to law-enforcement or prosecutorial "
            "agencies; your request is handled under the department's Records Maintenance and "
            f"Release policy instead.\n\nReason: {request.decision_reason}",
        )
    return None


def notify_requester(session: Session, request: AgencyRequest, kind: str) -> OutboxMessage:
    """Tell the agency's requester of a decision (or a question): `kind` names it."""
    text = _decision_text(request, kind)
    if text is None:
        raise ValueError(f"no notice of kind {kind!r}")
    subject, body = text
    return queue_message(
        session,
        kind=kind,
        recipient=request.submitted_by.email,
        subject=subject,
        body=body,
        request_id=request.id,
    )


def notify_package_ready(session: Session, package: ReleasePackage) -> OutboxMessage:
    """Tell the requester their release package can be downloaded, and until when."""
    request = package.request
    return queue_message(
        session,
        kind="package_ready",
        recipient=request.submitted_by.email,
        subject=f"ALPR data request {request.id}: release package ready",
        body=(
            f"The release package of your request {request.id} (case {request.case_number}) "
            f"holds {package.read_count:,} reads. Download it from the request's page in the "
            f"agency portal until {format_local(package.expires_at)}; the link works only for "
            "your agency's users."
        ),
        request_id=request.id,
    )


def outbox(session: Session, limit: int = 200) -> list[OutboxMessage]:
    """The newest messages, for the administrator's page."""
    return list(
        session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit))
    )


def send_outbox(session: Session, smtp_url: str | None, sender: str) -> dict[str, Any]:
    """Send what waits in the outbox (``ALPR_SMTP_URL``); commit per message.

    Without a server nothing is sent: the outbox page is the delivery. A message the server
    refuses keeps its error and is tried again by the next run, up to MAX_ATTEMPTS; a server
    that cannot be reached ends the run and costs no message an attempt.
    """
    if not smtp_url:
        return {"sent": 0, "failed": 0}
    waiting = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
        .order_by(OutboxMessage.id)
        .limit(SEND_BATCH)
    ).all()
    sent = failed = 0
    for message in waiting:
        try:
            send_mail(smtp_url, sender, [message.recipient], message.subject, message.body)
        except smtplib.SMTPException as exc:
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            failed += 1
        except (OSError, ValueError) as exc:  # unreachable, or ALPR_SMTP_URL is not a server
            session.rollback()
            return {"sent": sent, "failed": failed, "unreachable": 1, "error": type(exc).__name__}
        else:
            message.attempts += 1
            message.sent_at = utcnow()
            message.last_error = None
            sent += 1
        session.commit()
    return {"sent": sent, "failed": failed}
