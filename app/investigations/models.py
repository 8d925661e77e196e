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
    """Stored investigation statuses (see workflow.py).

    A closed case first awaits the Deputy Chief's or designee's disposition of its held data
    (``closed``), which either releases it to the 60-day rule (``released``) or keeps it under
    a records-retention schedule category until an end date (``retained``).
    """

    ACTIVE = "active"
    CLOSED = "closed"
    RELEASED = "released"
    RETAINED = "retained"


#: The statuses in which a case's placed holds keep their data from the 60-day purge: active,
#: closed until the disposition is decided, and retained until the schedule's end date. Only an
#: active case defers an ACP participant's destruction (425.5(b): "active criminal investigation").
INVESTIGATION_KEEPING = (
    InvestigationStatus.ACTIVE.value,
    InvestigationStatus.CLOSED.value,
    InvestigationStatus.RETAINED.value,
)


class Investigation(Base):
    """An active criminal investigation: what searches, other hotlists and holds refer to."""

    __tablename__ = "investigations"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(InvestigationStatus)})", name="known_status"),
        CheckConstraint("closed_on IS NULL OR closed_on >= opened_on", name="closes_after_open"),
        CheckConstraint(
            "status <> 'retained' OR (schedule_category IS NOT NULL AND retain_until IS NOT NULL)",
            name="retained_under_schedule",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=InvestigationStatus.ACTIVE.value)
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    closing_reason: Mapped[str | None] = mapped_column(Text)
    #: The records-retention schedule category its held data is (or was) kept under, and the
    #: day that keeping ends (app.config.ScheduleCategory).
    schedule_category: Mapped[str | None] = mapped_column(String(32))
    retain_until: Mapped[date | None] = mapped_column(Date)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead = relationship("User")
