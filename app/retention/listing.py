"""The lists of ACP and exculpatory requests (425.5), and the steps each one went through.

The lists go by status and page by page; the steps are read from the trail itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.retention.models import AcpRequest, AcpStatus, ExculpatoryRequest, ExculpatoryStatus
from app.workflow.history import StepEvent, step_history

PAGE_SIZE = 50

#: The trail's entries that are steps of each kind of request, in words.
ACP_STEPS = {
    AuditAction.ACP_RECEIVED: "Received",
    AuditAction.ACP_VERIFIED: "Verified",
    AuditAction.ACP_EXISTING_DESTROYED: "Existing data destroyed",
    AuditAction.ACP_SUPPRESSION_ACTIVATED: "Suppression activated",
    AuditAction.ACP_ENDED: "Participant left the program",
    AuditAction.ACP_DECLINED: "Declined",
}
EXCULPATORY_STEPS = {
    AuditAction.EXCULPATORY_RECEIVED: "Received",
    AuditAction.EXCULPATORY_ACTIVATED: "Hold put in force",
    AuditAction.EXCULPATORY_RELEASED: "Released: the matter is resolved",
    AuditAction.EXCULPATORY_DECLINED: "Declined",
}


@dataclass(frozen=True)
class RequestKind:
    """One kind of written request: its rows, its statuses and its steps."""

    model: type[Any]
    statuses: type[StrEnum]
    steps: dict[AuditAction, str]


ACP = RequestKind(AcpRequest, AcpStatus, ACP_STEPS)
EXCULPATORY = RequestKind(ExculpatoryRequest, ExculpatoryStatus, EXCULPATORY_STEPS)


@dataclass(frozen=True)
class RequestPage:
    """One page of a list of requests, and where it sits in the whole."""

    rows: list[Any]
    page: int
    pages: int
    total: int


def status_choices(kind: RequestKind) -> list[tuple[str, str]]:
    """The statuses the list filters by, as (value, label)."""
    return [(s.value, s.value.replace("_", " ").capitalize()) for s in kind.statuses]


def request_page(session: Session, kind: RequestKind, status: str | None, page: int) -> RequestPage:
    """Newest first, of one status when `status` names one; a page past the last is the last."""
    wanted = select(kind.model)
    if status in {s.value for s in kind.statuses}:
        wanted = wanted.where(kind.model.status == status)
    total = session.scalar(select(func.count()).select_from(wanted.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = session.scalars(
        wanted.order_by(kind.model.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    )
    return RequestPage(list(rows), page, pages, total)


def request_history(session: Session, kind: RequestKind, request: Any) -> list[StepEvent]:
    """Who took each step of `request`, and when, oldest first (from the trail)."""
    labels = {action.value: words for action, words in kind.steps.items()}
    return step_history(session, request, kind.steps, labels)
