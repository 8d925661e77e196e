"""Hit alerts (policy 425.4(f)): what operators see live, and each step they take on a hit.

Every step goes through :func:`~app.workflow.step.take_step` (the machine is
:class:`~app.alpr.workflow.HitMachine`) and appends its audit entry in the
caller's transaction (actor and time in the entry's header, the reason in its details). Hits are
created by ingest matching; nothing here creates one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from app.alpr.workflow import HitMachine  # noqa: F401  (declares the machine take_step uses)
from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import User
from app.investigations.models import Investigation
from app.investigations.sections import count_and_newest
from app.reads.models import Hit, HitStatus, HotlistSource, Read
from app.retention.acp.suppression import visible_reads
from app.workflow.history import StepEvent, step_history
from app.workflow.step import lock_subject, take_step

#: The page sizes the live list offers (newest first); older hits are on the following pages.
PAGE_SIZES = (50, 100)


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _load_options() -> Sequence[Any]:
    return (joinedload(Hit.read).joinedload(Read.device), joinedload(Hit.source))


@dataclass(frozen=True)
class HitPage:
    """One page of the live list, and where it sits in the whole, so no hit is silently cut."""

    rows: list[Hit]
    page: int
    pages: int
    total: int
    size: int

    @property
    def first(self) -> int:
        """The position of the page's first row in the whole list (0 when it is empty)."""
        return (self.page - 1) * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        """The position of the page's last row in the whole list."""
        return (self.page - 1) * self.size + len(self.rows)

    @property
    def numbers(self) -> list[int]:
        """The page links the pager shows: the two first and last, and two either side."""
        near = {1, 2, self.pages - 1, self.pages, *range(self.page - 2, self.page + 3)}
        return sorted(n for n in near if 1 <= n <= self.pages) if self.pages > 1 else []


def live_hits(
    session: Session, *, include_closed: bool = False, page: int = 1, size: int = PAGE_SIZES[0]
) -> HitPage:
    """The operators' alert list: open hits, latest sighting first (closed too when asked).

    Hits on reads an ACP request keeps out of use (425.5(b)) are not shown. A page past the
    last shows the last; a size not offered takes the smallest.
    """
    size = size if size in PAGE_SIZES else PAGE_SIZES[0]
    wanted = select(Hit).join(Hit.read).where(visible_reads())
    if not include_closed:
        wanted = wanted.where(Hit.status != HitStatus.CLOSED.value)
    total = session.scalar(select(func.count()).select_from(wanted.subquery())) or 0
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    stmt = (
        wanted.options(contains_eager(Hit.read).joinedload(Read.device), joinedload(Hit.source))
        .order_by(Read.captured_at.desc(), Hit.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    )
    return HitPage(list(session.scalars(stmt).unique()), page, pages, total, size)


def hits_of_read(session: Session, read_id: int) -> list[Hit]:
    """The hits one read raised, oldest first, with their hotlist source (the read's page)."""
    return list(
        session.scalars(
            select(Hit)
            .options(joinedload(Hit.source))
            .where(Hit.read_id == read_id)
            .order_by(Hit.id)
        )
    )


def load_hit(session: Session, hit_id: int) -> Hit | None:
    """One hit with its read, device and hotlist source loaded; None on a read out of use."""
    return session.scalars(
        select(Hit).options(*_load_options()).where(Hit.id == hit_id, Hit.read.has(visible_reads()))
    ).first()


def hits_fingerprint(hits: Sequence[Hit], total: int = 0) -> str:
    """A short digest of what a list shows (ids, states, changes, total): equal means unchanged."""
    parts = [f"{h.id}:{h.status}:{h.updated_at.isoformat() if h.updated_at else ''}" for h in hits]
    parts.append(str(total))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def record_hits_viewed(
    session: Session, actor: User | str | None, hits: Sequence[Hit], trigger: str
) -> None:
    """Audit that `actor` was shown `hits` (425.6(e)): the count and ids, never plates."""
    record(
        session,
        actor,
        AuditAction.HITS_VIEWED,
        None,
        {"count": len(hits), "hit_ids": [h.id for h in hits], "trigger": trigger},
    )


def _hit_step(
    session: Session,
    actor: User | str | None,
    hit: Hit,
    event: str,
    audit_action: AuditAction,
    *,
    changes: dict[str, Any],
    details: dict[str, Any],
    **inputs: Any,
) -> Hit:
    """Take `event` on `hit` through the one step mechanism; the handler is recorded on it."""
    if isinstance(actor, User):
        changes = {**changes, "handled_by_id": actor.id}
    return take_step(
        session,
        actor,
        hit,
        event,
        audit_action=audit_action,
        changes=changes,
        details={"category": hit.category, **details},
        **inputs,
    )


@dataclass(frozen=True)
class Verification:
    """An MNJIS/NLETS query about a hit (425.4(f)): the system, its reference, when it was made."""

    verified_via: str
    reference: str
    queried_at: datetime | None

    def columns(self) -> dict[str, Any]:
        """What the hit keeps of it, by column: also what the machine's guards take."""
        return {
            "verified_via": _clean(self.verified_via),
            "verification_reference": _clean(self.reference),
            "verified_at": self.queried_at,
        }

    def details(self) -> dict[str, Any]:
        """What its audit entry keeps of it."""
        return {
            "verified_via": _clean(self.verified_via),
            "reference": _clean(self.reference),
            "verified_at": self.queried_at.isoformat() if self.queried_at else None,
        }


def confirm_hit(
    session: Session,
    actor: User | str | None,
    hit: Hit,
    verification: Verification,
    *,
    now: datetime,
) -> Hit:
    """The query showed the alert is valid (425.4(f)); enforcement may follow."""
    return _hit_step(
        session,
        actor,
        hit,
        "confirm",
        AuditAction.HIT_CONFIRMED,
        changes=verification.columns(),
        details=verification.details(),
        now=now,
        **verification.columns(),
    )


def mark_hit_not_valid(
    session: Session,
    actor: User | str | None,
    hit: Hit,
    verification: Verification,
    reason: str,
    *,
    now: datetime,
) -> Hit:
    """The query showed the alert is not valid (e.g. vehicle recovered): no enforcement on it."""
    reason = _clean(reason)
    return _hit_step(
        session,
        actor,
        hit,
        "mark_not_valid",
        AuditAction.HIT_NOT_VALID,
        changes=verification.columns(),
        details={**verification.details(), "reason": reason},
        now=now,
        reason=reason,
        **verification.columns(),
    )


def mark_verification_impracticable(
    session: Session, actor: User | str | None, hit: Hit, impracticable_reason: str
) -> Hit:
    """MNJIS/NLETS cannot be asked now: the reason is kept, and enforcement may be recorded."""
    reason = _clean(impracticable_reason)
    return _hit_step(
        session,
        actor,
        hit,
        "mark_impracticable",
        AuditAction.HIT_VERIFICATION_IMPRACTICABLE,
        changes={"impracticable_reason": reason},
        details={"impracticable_reason": reason},
        impracticable_reason=reason,
    )


def record_enforcement_action(
    session: Session, actor: User | str | None, hit: Hit, action: str
) -> Hit:
    """Record enforcement taken on a hit verified valid, or not verifiable in practice.

    On a hit whose verification was not practicable the entry repeats the reason it was taken
    on. Raises WorkflowError on a hit not verified yet, verified not valid, closed, or already
    carrying an action.
    """
    lock_subject(session, hit)  # the entry names the reason of the state the step starts from
    action = _clean(action)
    unverified = hit.status == HitStatus.IMPRACTICABLE.value
    return _hit_step(
        session,
        actor,
        hit,
        "record_enforcement",
        AuditAction.HIT_ENFORCEMENT_RECORDED,
        changes={"enforcement_action": action},
        details={
            "action": action,
            "impracticable_reason": hit.impracticable_reason if unverified else None,
        },
        action=action,
    )


def enforcement_refused(hit: Hit) -> bool:
    """Whether the hit was verified not valid, so no enforcement may rest on it (425.4(f))."""
    return hit.status == HitStatus.NOT_VALID.value


def close_hit(session: Session, actor: User | str | None, hit: Hit, note: str) -> Hit:
    """Close a worked hit with a note saying how it ended."""
    note = _clean(note)
    return _hit_step(
        session,
        actor,
        hit,
        "close",
        AuditAction.HIT_CLOSED,
        changes={"closing_note": note},
        details={"note": note},
        note=note,
    )


HIT_STEP_ACTIONS = (
    AuditAction.HIT_CREATED,
    AuditAction.HIT_CONFIRMED,
    AuditAction.HIT_NOT_CONFIRMED,
    AuditAction.HIT_NOT_VALID,
    AuditAction.HIT_VERIFICATION_IMPRACTICABLE,
    AuditAction.HIT_ENFORCEMENT_RECORDED,
    AuditAction.HIT_CLOSED,
)


def hit_history(session: Session, hit: Hit) -> list[StepEvent]:
    """The hit's steps from the audit trail itself, so the page shows what the trail holds."""
    return step_history(session, hit, HIT_STEP_ACTIONS)


def hits_of_case(session: Session, investigation: Investigation) -> tuple[int, list[Hit]]:
    """The hits on the hotlists the case loaded (425.4.1(b)), latest sighting first.

    Hits on reads an ACP request keeps out of use (425.5(b)) are not listed.
    """
    stmt = (
        select(Hit)
        .join(Hit.read)
        .join(Hit.source)
        .where(HotlistSource.investigation_id == investigation.id, visible_reads())
        .options(contains_eager(Hit.read), contains_eager(Hit.source))
    )
    return count_and_newest(session, stmt, Read.captured_at.desc(), Hit.id.desc())


#: The age bands of open hits on the operators' home page: (label, from hours, to hours).
HIT_AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under 1 hour", 0, 1),
    ("1–24 hours", 1, 24),
    ("over 24 hours", 24, None),
)


def open_hit_ages(session: Session, now: datetime) -> list[tuple[str, int]]:
    """How many hits are still open, by how long ago their read was taken (counts only).

    Counts the hits the live list shows (ACP-suppressed reads left out), so a number on the
    home page and the list it links to agree.
    """
    bands = []
    for label, low, high in HIT_AGE_BANDS:
        stmt = (
            select(func.count())
            .select_from(Hit)
            .join(Hit.read)
            .where(
                visible_reads(),
                Hit.status != HitStatus.CLOSED.value,
                Read.captured_at <= now - timedelta(hours=low),
            )
        )
        if high is not None:
            stmt = stmt.where(Read.captured_at > now - timedelta(hours=high))
        bands.append((label, session.scalar(stmt) or 0))
    return bands
