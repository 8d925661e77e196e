"""What waits for a retention step (425.5): the home page's records and Deputy Chief cards."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import not_, select
from sqlalchemy.orm import Session

from app.retention.holds import hold_in_force_clause
from app.retention.models import (
    AcpRequest,
    AcpStatus,
    ExculpatoryRequest,
    ExculpatoryStatus,
    Hold,
    HoldStatus,
)


@dataclass(frozen=True)
class RetentionQueue:
    """Requests and holds whose next step is someone's to take, oldest first."""

    acp_to_verify: list[AcpRequest]
    acp_to_destroy: list[AcpRequest]
    acp_to_activate: list[AcpRequest]
    exculpatory_received: list[ExculpatoryRequest]
    holds_ended: list[Hold]

    @property
    def total(self) -> int:
        """Everything on the card."""
        return sum(
            len(items)
            for items in (
                self.acp_to_verify,
                self.acp_to_destroy,
                self.acp_to_activate,
                self.exculpatory_received,
                self.holds_ended,
            )
        )


def _acp(session: Session, status: AcpStatus) -> list[AcpRequest]:
    return list(
        session.scalars(
            select(AcpRequest).where(AcpRequest.status == status.value).order_by(AcpRequest.id)
        )
    )


def retention_queue(session: Session) -> RetentionQueue:
    """Everything that waits for someone's retention step, oldest first.

    ACP requests at each step before suppression, exculpatory requests not yet decided, and
    placed holds whose reason has ended (a closed case, a resolved matter), which wait for a
    release or a disposition.
    """
    return RetentionQueue(
        acp_to_verify=_acp(session, AcpStatus.RECEIVED),
        acp_to_destroy=_acp(session, AcpStatus.VERIFIED),
        acp_to_activate=_acp(session, AcpStatus.EXISTING_DESTROYED),
        exculpatory_received=list(
            session.scalars(
                select(ExculpatoryRequest)
                .where(ExculpatoryRequest.status == ExculpatoryStatus.RECEIVED.value)
                .order_by(ExculpatoryRequest.id)
            )
        ),
        holds_ended=list(
            session.scalars(
                select(Hold)
                .where(Hold.status == HoldStatus.PLACED.value, not_(hold_in_force_clause()))
                .order_by(Hold.id)
            )
        ),
    )
