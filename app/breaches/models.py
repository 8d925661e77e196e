"""Breach incidents (policy 425.6(d), Minn. Stat. § 13.055): what happened and what was done.

A government entity that discovers a breach of the security of data must investigate it,
notify the individuals whose data is reasonably believed to have been acquired by an
unauthorised person, and, once the investigation is complete, prepare a report on its facts
and results. One row per incident; its steps are taken by :mod:`app.breaches.workflow`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, sql_values, utcnow

DESCRIPTION_MAX = 4000
DATA_INVOLVED_MAX = 2000
UNAUTHORISED_PERSON_MAX = 1000
FINDINGS_MAX = 4000
SUMMARY_MAX = 4000
#: More than any department's records could name; keeps the count inside a 32-bit column.
NOTIFIED_MAX = 10_000_000


class BreachStatus(StrEnum):
    """Stored breach incident statuses, in the order § 13.055 takes them."""

    REPORTED = "reported"
    INVESTIGATING = "investigating"
    INDIVIDUALS_NOTIFIED = "individuals_notified"
    REPORT_COMPLETED = "report_completed"


class NotificationMethod(StrEnum):
    """How the individuals were told (§ 13.055: written, electronic or substitute notice)."""

    WRITTEN = "written"
    ELECTRONIC = "electronic"
    SUBSTITUTE = "substitute"

    @property
    def label(self) -> str:
        """The words staff see."""
        return NOTIFICATION_METHOD_LABELS[self]


NOTIFICATION_METHOD_LABELS = {
    NotificationMethod.WRITTEN: "Written notice by first class mail",
    NotificationMethod.ELECTRONIC: "Electronic notice",
    NotificationMethod.SUBSTITUTE: "Substitute notice (e-mail, website posting and media)",
}


class BreachIncident(Base):
    """A discovered breach of the security of data, from its report to the completed report."""

    __tablename__ = "breach_incidents"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(BreachStatus)})", name="known_status"),
        CheckConstraint(
            f"notification_method IS NULL OR notification_method IN "
            f"({sql_values(NotificationMethod)})",
            name="known_method",
        ),
        CheckConstraint(
            "individuals_notified IS NULL OR individuals_notified > 0", name="notified_count"
        ),
        CheckConstraint(
            "report_completed_on IS NULL OR notified_on IS NULL "
            "OR report_completed_on >= notified_on",
            name="report_after_notice",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(24), default=BreachStatus.REPORTED.value)
    discovered_at: Mapped[datetime]
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX))
    data_involved: Mapped[str] = mapped_column(String(DATA_INVOLVED_MAX))
    unauthorised_person: Mapped[str | None] = mapped_column(String(UNAUTHORISED_PERSON_MAX))
    #: The report form's one-time key: the same form sent twice is one incident.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    investigation_started_at: Mapped[datetime | None]
    findings: Mapped[str | None] = mapped_column(Text)
    individuals_notified: Mapped[int | None] = mapped_column(Integer)
    notified_on: Mapped[date | None] = mapped_column(Date)
    notification_method: Mapped[str | None] = mapped_column(String(16))
    report_completed_on: Mapped[date | None] = mapped_column(Date)
    report_summary: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    reported_by = relationship("User")

    @property
    def status_label(self) -> str:
        """The status as staff read it."""
        return self.status.replace("_", " ")

    @property
    def method_label(self) -> str:
        """The notification method as staff read it, or '' before notice is given."""
        if self.notification_method is None:
            return ""
        return NotificationMethod(self.notification_method).label
