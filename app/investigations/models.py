"""Criminal investigations (cases): what holds, searches, other hotlists and requests cite.

An investigation being *active* is what lets data outlive 60 days (425.5), lets another hotlist
source be loaded (425.4.1(b)) and ties a search to a case (425.6(b)).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, sql_values, utcnow


class InvestigationStatus(StrEnum):
    """Stored investigation statuses."""

    ACTIVE = "active"
    CLOSED = "closed"


class Investigation(Base):
    """An active criminal investigation: what searches, other hotlists and holds refer to."""

    __tablename__ = "investigations"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(InvestigationStatus)})", name="known_status"),
        CheckConstraint("closed_on IS NULL OR closed_on >= opened_on", name="closes_after_open"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=InvestigationStatus.ACTIVE.value)
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    closing_reason: Mapped[str | None] = mapped_column(Text)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead = relationship("User")
