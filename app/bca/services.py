"""BCA notices (policy 425.4.1(d)): opened by themselves, sent, acknowledged, watched for lateness.

A notice is owed for each installation, first use and fixed location of a device. Rather than
trust every writer to remember it, :func:`open_owed_notices` derives the owed notices from the
facts (a device's installation date or registration, its first use, its deployments) and opens
the missing ones. It runs inside the transaction of each event (``device_event_recorded``, sent
by the alpr package) and again in the daily job, which catches anything written another way.
Sending and acknowledging go through :func:`take_step`. Nothing here commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app.alpr.devices import device_event_recorded
from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import User, UserRole
from app.bca.letter import Sending, letter_pdf
from app.bca.models import NOTICE_DAYS, BcaEvent, BcaNotice, BcaNoticeStatus, SendMethod
from app.bca.permissions import BCA_PERMISSIONS, BcaAction
from app.bca.workflow import (
    BcaNoticeMachine,  # noqa: F401  (declares the machine take_step uses)
)
from app.core.timeutil import local_today
from app.db import utcnow
from app.reads.models import ActiveUsePeriod, Deployment, Device, Read
from app.retention.documents import IncomingDocument, store_document
from app.workflow.history import StepEvent, step_history
from app.workflow.step import start_step, take_step

#: The audit actor of what opens and flags notices by itself.
BCA_ACTOR = "system:bca-notices"
#: An open notice this many days or fewer from its due date is "due soon".
DUE_SOON_DAYS = 3


def notice_due_on(event_on: date) -> date:
    """The last calendar day the notice is on time: 10 days after the event's local date."""
    return event_on + timedelta(days=NOTICE_DAYS)


@dataclass(frozen=True)
class OwedEvent:
    """An event a notice is owed for, with its department calendar date."""

    event: BcaEvent
    device_id: int
    deployment_id: int | None
    event_on: date

    @property
    def key(self) -> str:
        """The notice's unique ``event_key``: one notice per event."""
        if self.deployment_id is not None:
            return f"{self.event.value}:{self.deployment_id}"
        return f"{self.event.value}:{self.device_id}"


def _first_uses(session: Session, devices: Sequence[Device]) -> dict[int, datetime]:
    """Each device's earliest known use: its recorded first use, periods of use, or reads.

    ``first_used_at`` is kept at ingest; periods of active use outlive the reads; reads are
    asked only for a device neither knows about (loaded some other way).
    """
    ids = [d.id for d in devices]
    earliest: dict[int, datetime] = {d.id: d.first_used_at for d in devices if d.first_used_at}
    if not ids:
        return earliest
    periods = session.execute(
        select(ActiveUsePeriod.device_id, func.min(ActiveUsePeriod.started_at))
        .where(ActiveUsePeriod.device_id.in_(ids))
        .group_by(ActiveUsePeriod.device_id)
    )
    for device_id, started_at in periods:
        if device_id not in earliest or started_at < earliest[device_id]:
            earliest[device_id] = started_at
    unknown = [i for i in ids if i not in earliest]
    if unknown:
        reads = session.execute(
            select(Read.device_id, func.min(Read.captured_at))
            .where(Read.device_id.in_(unknown))
            .group_by(Read.device_id)
        )
        earliest.update({device_id: captured for device_id, captured in reads})
    return earliest


def owed_events(session: Session, device_id: int | None = None) -> list[OwedEvent]:
    """Every event of every device (or of one) that owes the BCA a notice.

    Installation: the installation date, or the day the device was registered when none was
    given (a registered camera is taken as installed). First use: the local date of its
    earliest read. Fixed location: each deployment's first day.
    """
    query = select(Device).order_by(Device.id)
    if device_id is not None:
        query = query.where(Device.id == device_id)
    devices = list(session.scalars(query))
    first_uses = _first_uses(session, devices)
    events: list[OwedEvent] = []
    for device in devices:
        installed_on = device.installed_on or local_today(device.created_at)
        events.append(OwedEvent(BcaEvent.INSTALLATION, device.id, None, installed_on))
        if device.id in first_uses:
            used_on = local_today(first_uses[device.id])
            events.append(OwedEvent(BcaEvent.FIRST_USE, device.id, None, used_on))
    deployments = select(Deployment).order_by(Deployment.id)
    if device_id is not None:
        deployments = deployments.where(Deployment.device_id == device_id)
    events.extend(
        OwedEvent(BcaEvent.FIXED_LOCATION, d.device_id, d.id, d.started_on)
        for d in session.scalars(deployments)
    )
    return events


def _open_notice(session: Session, actor: Any, owed: OwedEvent) -> BcaNotice:
    notice = BcaNotice(
        event=owed.event.value,
        event_key=owed.key,
        device_id=owed.device_id,
        deployment_id=owed.deployment_id,
        event_on=owed.event_on,
        due_on=notice_due_on(owed.event_on),
        status=BcaNoticeStatus.OPEN.value,
    )
    session.add(notice)
    session.flush()
    record(
        session,
        actor,
        AuditAction.BCA_NOTICE_OPENED,
        notice,
        {
            "to": notice.status,
            "event": notice.event,
            "device_id": notice.device_id,
            "deployment_id": notice.deployment_id,
            "event_on": notice.event_on.isoformat(),
            "due_on": notice.due_on.isoformat(),
        },
    )
    return notice


def _bring_forward(session: Session, actor: Any, notice: BcaNotice, event_on: date) -> None:
    """An open notice whose event proved earlier (a late read) falls due earlier too."""
    before = (notice.event_on.isoformat(), notice.due_on.isoformat())
    notice.event_on = event_on
    notice.due_on = notice_due_on(event_on)
    session.flush()
    record(
        session,
        actor,
        AuditAction.BCA_NOTICE_CORRECTED,
        notice,
        {
            "event_on": [before[0], notice.event_on.isoformat()],
            "due_on": [before[1], notice.due_on.isoformat()],
            "reason": "the event happened earlier than first recorded",
        },
    )


def open_owed_notices(
    session: Session, actor: Any = BCA_ACTOR, *, device_id: int | None = None
) -> list[BcaNotice]:
    """Open a notice for every owed event that has none; returns the notices opened or moved.

    Idempotent: an event with its notice is left alone, except that an open notice whose event
    is now known to be earlier is brought forward (audited). Each opening is audited.
    """
    events = owed_events(session, device_id)
    if not events:
        return []
    existing = {
        notice.event_key: notice
        for notice in session.scalars(
            select(BcaNotice).where(BcaNotice.event_key.in_([e.key for e in events]))
        )
    }
    changed: list[BcaNotice] = []
    for owed in events:
        notice = existing.get(owed.key)
        if notice is None:
            changed.append(_open_notice(session, actor, owed))
        elif notice.status == BcaNoticeStatus.OPEN.value and owed.event_on < notice.event_on:
            _bring_forward(session, actor, notice, owed.event_on)
            changed.append(notice)
    return changed


@device_event_recorded.connect
def _open_on_device_event(device: Device, *, session: Session, **_: Any) -> None:
    """The event's notice opens in the event's own transaction."""
    open_owed_notices(session, BCA_ACTOR, device_id=device.id)


# -- what is due ------------------------------------------------------------------------------


def _with_facts(query: Any) -> Any:
    return query.options(joinedload(BcaNotice.device), joinedload(BcaNotice.deployment))


def overdue_notices(session: Session, today: date) -> list[BcaNotice]:
    """Notices not sent by their due date (department calendar `today`), most overdue first."""
    return list(
        session.scalars(
            _with_facts(
                select(BcaNotice)
                .where(BcaNotice.status == BcaNoticeStatus.OPEN.value, BcaNotice.due_on < today)
                .order_by(BcaNotice.due_on, BcaNotice.id)
            )
        )
    )


def is_overdue(notice: BcaNotice, today: date) -> bool:
    """Still open after its due date."""
    return notice.status == BcaNoticeStatus.OPEN.value and notice.due_on < today


def is_due_soon(notice: BcaNotice, today: date) -> bool:
    """Open, on time, and due within DUE_SOON_DAYS."""
    return notice.status == BcaNoticeStatus.OPEN.value and 0 <= notice.days_left(today) <= (
        DUE_SOON_DAYS
    )


@dataclass(frozen=True)
class NoticeRow:
    """One notice on the dashboard, with what the page says of its deadline."""

    notice: BcaNotice
    overdue: bool
    due_soon: bool
    deadline: str


def _deadline(notice: BcaNotice, today: date) -> str:
    if notice.status != BcaNoticeStatus.OPEN.value:
        late = notice.sent_on is not None and notice.sent_on > notice.due_on
        return "sent late" if late else "sent on time"
    days = notice.days_left(today)
    if days < 0:
        return f"overdue by {-days} day{'s' if days < -1 else ''}"
    if days == 0:
        return "due today"
    return f"{days} day{'s' if days > 1 else ''} left"


@dataclass(frozen=True)
class Dashboard:
    """Every notice, open ones first by due date, and the counts the page heads with."""

    rows: list[NoticeRow]
    overdue: int
    due_soon: int
    open: int
    awaiting_acknowledgement: int


def dashboard(session: Session, today: date) -> Dashboard:
    """The BCA notice dashboard as of department calendar day `today`."""
    notices = list(
        session.scalars(
            _with_facts(select(BcaNotice).order_by(BcaNotice.due_on.desc(), BcaNotice.id.desc()))
        )
    )
    is_open = [n for n in notices if n.status == BcaNoticeStatus.OPEN.value]
    rest = [n for n in notices if n.status != BcaNoticeStatus.OPEN.value]
    ordered = sorted(is_open, key=lambda n: (n.due_on, n.id)) + rest
    rows = [
        NoticeRow(n, is_overdue(n, today), is_due_soon(n, today), _deadline(n, today))
        for n in ordered
    ]
    return Dashboard(
        rows=rows,
        overdue=sum(r.overdue for r in rows),
        due_soon=sum(r.due_soon for r in rows),
        open=len(is_open),
        awaiting_acknowledgement=sum(n.status == BcaNoticeStatus.SENT.value for n in notices),
    )


def flag_overdue_notices(session: Session, actor: Any, today: date) -> list[BcaNotice]:
    """Mark each overdue notice not flagged before, audited once; returns those newly flagged.

    The home page of the Deputy Chief and the ALPR administrators lists every overdue notice;
    the flag records when the daily job first reported it (and e-mailed it, when configured).
    """
    flagged = [n for n in overdue_notices(session, today) if n.overdue_flagged_at is None]
    now = utcnow()
    for notice in flagged:
        notice.overdue_flagged_at = now
        session.flush()
        record(
            session,
            actor,
            AuditAction.BCA_NOTICE_OVERDUE,
            notice,
            {"due_on": notice.due_on.isoformat(), "days_overdue": -notice.days_left(today)},
        )
    return flagged


def overdue_watchers(session: Session) -> list[str]:
    """The e-mail addresses of the active accounts that are shown overdue notices."""
    roles = [role.value for role in BCA_PERMISSIONS.roles(BcaAction.WATCH_OVERDUE)]
    return list(
        session.scalars(
            select(User.email)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role.in_(roles), User.is_active_account.is_(True))
            .distinct()
            .order_by(User.email)
        )
    )


def list_for_period(session: Session, start: date, end: date) -> list[BcaNotice]:
    """Notices whose event fell on local days `start` through `end` (the biennial audit)."""
    return list(
        session.scalars(
            _with_facts(
                select(BcaNotice)
                .where(BcaNotice.event_on >= start, BcaNotice.event_on <= end)
                .order_by(BcaNotice.event_on, BcaNotice.id)
            )
        )
    )


# -- the steps -------------------------------------------------------------------------------


def draft_letter(notice: BcaNotice, *, department: str, today: date) -> bytes:
    """The letter to send, before the sending's facts are known (not kept)."""
    return letter_pdf(notice, department=department, written_on=today, sending=None)


def record_notice_sent(
    session: Session,
    actor: User | str | None,
    notice: BcaNotice,
    *,
    sent_on: date | None,
    sent_method: str | None,
    sent_to: str | None,
    sent_reference: str | None,
    department: str,
) -> BcaNotice:
    """Open → sent: when, how, to whom and under what reference; the letter is kept as a PDF.

    The letter is printed with the sending's facts once the machine has accepted them, and
    stored in the document store (content-addressed, like the scanned requests). Raises
    WorkflowError at the field of the first missing or implausible input, before any letter.
    """
    inputs = {
        "sent_on": sent_on,
        "sent_method": sent_method,
        "sent_to": (sent_to or "").strip(),
        "sent_reference": (sent_reference or "").strip(),
    }
    step = start_step(session, actor, notice, "send_notice", **inputs)
    for name, value in inputs.items():  # a sent row holds its facts before storing flushes it
        setattr(notice, name, value)
    sender = actor.name if isinstance(actor, User) else str(actor or "")
    day = cast(date, sent_on)  # the machine's guards have checked it is a date
    pdf = letter_pdf(
        notice,
        department=department,
        written_on=day,
        sending=Sending(
            sent_on=day,
            method=SendMethod(sent_method).label,
            sent_to=inputs["sent_to"],
            reference=inputs["sent_reference"],
            sender=sender,
        ),
    )
    digest = hashlib.sha256(pdf).hexdigest()
    store_document(
        session,
        IncomingDocument(pdf, digest, "application/pdf", f"bca-notice-{notice.id}.pdf"),
    )
    return step.record(
        AuditAction.BCA_NOTICE_SENT,
        changes={
            "sent_by_id": actor.id if isinstance(actor, User) else None,
            "letter_sha256": digest,
        },
        details={
            "sent_on": day.isoformat(),
            "sent_method": sent_method,
            "sent_to": inputs["sent_to"],
            "sent_reference": inputs["sent_reference"],
            "letter_sha256": digest,
            "on_time": day <= notice.due_on,
        },
    )


def record_notice_acknowledged(
    session: Session,
    actor: User | str | None,
    notice: BcaNotice,
    *,
    acknowledged_on: date | None,
    acknowledgement_note: str | None,
) -> BcaNotice:
    """Sent → acknowledged: the BCA confirmed receipt (final)."""
    note = (acknowledgement_note or "").strip()
    inputs = {"acknowledged_on": acknowledged_on, "acknowledgement_note": note}
    return take_step(
        session,
        actor,
        notice,
        "acknowledge",
        audit_action=AuditAction.BCA_NOTICE_ACKNOWLEDGED,
        changes={**inputs, "acknowledgement_note": note or None},
        details={"acknowledged_on": acknowledged_on.isoformat() if acknowledged_on else None},
        **inputs,
    )


BCA_STEP_ACTIONS = (
    AuditAction.BCA_NOTICE_OPENED,
    AuditAction.BCA_NOTICE_CORRECTED,
    AuditAction.BCA_NOTICE_OVERDUE,
    AuditAction.BCA_NOTICE_SENT,
    AuditAction.BCA_NOTICE_ACKNOWLEDGED,
)

BCA_EVENT_LABELS = {
    AuditAction.BCA_NOTICE_OPENED.value: "Notice opened",
    AuditAction.BCA_NOTICE_CORRECTED.value: "Event date corrected",
    AuditAction.BCA_NOTICE_OVERDUE.value: "Reported overdue",
    AuditAction.BCA_NOTICE_SENT.value: "Sent to the BCA",
    AuditAction.BCA_NOTICE_ACKNOWLEDGED.value: "Acknowledged by the BCA",
}


def notice_history(session: Session, notice: BcaNotice) -> list[StepEvent]:
    """The notice's steps from the audit trail itself."""
    return step_history(session, notice, BCA_STEP_ACTIONS, BCA_EVENT_LABELS)


def notices_due(session: Session, today: date) -> list[BcaNotice]:
    """Open notices overdue or due within DUE_SOON_DAYS (department calendar), soonest first."""
    return list(
        session.scalars(
            _with_facts(
                select(BcaNotice)
                .where(
                    BcaNotice.status == BcaNoticeStatus.OPEN.value,
                    BcaNotice.due_on <= today + timedelta(days=DUE_SOON_DAYS),
                )
                .order_by(BcaNotice.due_on, BcaNotice.id)
            )
        )
    )
