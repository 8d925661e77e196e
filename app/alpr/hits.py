"""Hit alerts (policy 425.4(f)): what operators see live, and each step they take on a hit.

Every step goes through :func:`~app.workflow.step.take_step` (the machine is
:class:`~app.alpr.workflow.HitMachine`) and appends its audit entry in the
caller's transaction (actor and time in the entry's header, the reason in its details). Hits are
created by ingest matching; nothing here creates one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, joinedload

from app.alpr.workflow import HitMachine  # noqa: F401  (declares the machine take_step uses)
from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import User
from app.reads.models import Hit, HitStatus, Read
from app.retention.acp.suppression import visible_reads
from app.workflow.history import StepEvent, step_history
from app.workflow.step import lock_subject, take_step

#: The live list shows at most this many hits (newest first); older open hits stay reachable.
LIVE_LIST_LIMIT = 100


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _load_options() -> Sequence[Any]:
    return (joinedload(Hit.read).joinedload(Read.device), joinedload(Hit.source))


def live_hits(session: Session, *, include_closed: bool = False) -> list[Hit]:
    """The operators' alert list: open hits, latest sighting first (closed too when asked).

    Hits on reads an ACP request keeps out of use (425.5(b)) are not shown.
    """
    stmt = (
        select(Hit)
        .join(Hit.read)
        .where(visible_reads())
        .options(contains_eager(Hit.read).joinedload(Read.device), joinedload(Hit.source))
    )
    if not include_closed:
        stmt = stmt.where(Hit.status != HitStatus.CLOSED.value)
    stmt = stmt.order_by(Read.captured_at.desc(), Hit.id.desc()).limit(LIVE_LIST_LIMIT)
    return list(session.scalars(stmt).unique())


def load_hit(session: Session, hit_id: int) -> Hit | None:
    """One hit with its read, device and hotlist source loaded; None on a read out of use."""
    return session.scalars(
        select(Hit).options(*_load_options()).where(Hit.id == hit_id, Hit.read.has(visible_reads()))
    ).first()


def hits_fingerprint(hits: Sequence[Hit]) -> str:
    """A short digest of what a list shows (ids, states, last change): equal means unchanged."""
    parts = [f"{h.id}:{h.status}:{h.updated_at.isoformat() if h.updated_at else ''}" for h in hits]
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


def confirm_hit(session: Session, actor: User | str | None, hit: Hit, verified_via: str) -> Hit:
    """The alert was verified through MNJIS and/or NLETS (425.4(f)): `verified_via` says which."""
    verified_via = _clean(verified_via)
    return _hit_step(
        session,
        actor,
        hit,
        "confirm",
        AuditAction.HIT_CONFIRMED,
        changes={"verified_via": verified_via},
        details={"verified_via": verified_via},
        verified_via=verified_via,
    )


def mark_hit_not_confirmed(
    session: Session, actor: User | str | None, hit: Hit, reason: str
) -> Hit:
    """Verification did not confirm the alert (e.g. vehicle recovered): no action on it alone."""
    reason = _clean(reason)
    return _hit_step(
        session,
        actor,
        hit,
        "mark_not_confirmed",
        AuditAction.HIT_NOT_CONFIRMED,
        changes={},
        details={"reason": reason},
        reason=reason,
    )


def record_enforcement_action(
    session: Session,
    actor: User | str | None,
    hit: Hit,
    action: str,
    impracticable_reason: str | None = None,
) -> Hit:
    """Record enforcement taken on a hit.

    On a confirmed hit the action is enough. On a hit that is new or not confirmed, 425.4(f)
    allows acting on the ALPR alert alone only where verification was impracticable, so
    `impracticable_reason` is required and kept. Raises WorkflowError otherwise, or when the hit
    is closed or already has an enforcement action.
    """
    lock_subject(session, hit)  # the reason is kept or not by the state the step starts from
    action = _clean(action)
    reason = _clean(impracticable_reason) or None
    kept_reason = None if hit.status == HitStatus.CONFIRMED.value else reason
    return _hit_step(
        session,
        actor,
        hit,
        "record_enforcement",
        AuditAction.HIT_ENFORCEMENT_RECORDED,
        changes={"enforcement_action": action, "impracticable_reason": kept_reason},
        details={"action": action, "impracticable_reason": kept_reason},
        action=action,
        impracticable_reason=reason,
    )


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
    AuditAction.HIT_ENFORCEMENT_RECORDED,
    AuditAction.HIT_CLOSED,
)


def hit_history(session: Session, hit: Hit) -> list[StepEvent]:
    """The hit's steps from the audit trail itself, so the page shows what the trail holds."""
    return step_history(session, hit, HIT_STEP_ACTIONS)
