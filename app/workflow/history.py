"""A case's steps as its audit trail recorded them: what a case page shows as its history."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.audit.actions import AuditAction
from app.audit.models import CHAIN_ORDER, AuditEntry
from app.auth.models import User


@dataclass(frozen=True)
class StepEvent:
    """One step of a case, as its audit entry recorded it; `label` says it in words."""

    occurred_at: datetime
    actor_label: str
    action: str
    label: str
    details: dict[str, Any]


def step_history(
    session: Session,
    subject: Any,
    actions: Iterable[AuditAction],
    labels: Mapping[str, str] | None = None,
) -> list[StepEvent]:
    """The `actions` entries of `subject`, oldest first, read from the trail itself.

    The page then shows what the trail holds, never a copy that could disagree with it. The
    subject is named as :func:`app.audit.services.record` names it (table and id); a person
    who took a step is shown by their name (the trail's label is their email).
    """
    rows = session.execute(
        select(AuditEntry, User.name)
        .outerjoin(User, User.id == AuditEntry.actor_user_id)
        .options(joinedload(AuditEntry.detail))
        .where(
            AuditEntry.subject_type == subject.__tablename__,
            AuditEntry.subject_id == str(subject.id),
            AuditEntry.action.in_([action.value for action in actions]),
        )
        .order_by(*CHAIN_ORDER)
    )
    words = labels or {}
    return [
        StepEvent(
            entry.occurred_at,
            name or entry.actor_label,
            entry.action,
            words.get(entry.action, entry.action),
            json.loads(entry.detail.details_json) if entry.detail else {},
        )
        for entry, name in rows
    ]
