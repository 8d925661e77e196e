"""BCA notices (policy 425.4.1(d), Minn. Stat. § 13.824 subd. 8): one row per notice owed.

The Bureau of Criminal Apprehension must be told within 10 days of a device's installation, of
its first use, and of each fixed location it stands at. Each of those events owes one notice;
``event_key`` names the event ("installation:<device>", "first_use:<device>",
"fixed_location:<deployment>") and is unique, so an event never opens two. Its steps (open →
sent → acknowledged) are taken by :mod:`app.bca.workflow`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, sql_values, utcnow

#: Calendar days the BCA notice is due after its event (425.4.1(d): "within 10 days").
NOTICE_DAYS = 10
RECIPIENT_MAX = 200
REFERENCE_MAX = 120
NOTE_MAX = 1000


class BcaEvent(StrEnum):
    """What happened that the BCA must be told of."""

    INSTALLATION = "installation"
    FIRST_USE = "first_use"
    FIXED_LOCATION = "fixed_location"

    @property
    def label(self) -> str:
        """The words staff and the letter use."""
        return BCA_EVENT_LABELS[self]


BCA_EVENT_LABELS = {
    BcaEvent.INSTALLATION: "Installation of a device",
    BcaEvent.FIRST_USE: "First use of a device",
    BcaEvent.FIXED_LOCATION: "New fixed location",
}


class BcaNoticeStatus(StrEnum):
    """Stored notice statuses, in the order they are reached."""

    OPEN = "open"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"


class SendMethod(StrEnum):
    """How the notice went to the BCA."""

    EMAIL = "email"
    MAIL = "mail"
    FAX = "fax"
    PORTAL = "portal"

    @property
    def label(self) -> str:
        """The words staff see."""
        return SEND_METHOD_LABELS[self]


SEND_METHOD_LABELS = {
    SendMethod.EMAIL: "E-mail",
    SendMethod.MAIL: "Mail",
    SendMethod.FAX: "Fax",
    SendMethod.PORTAL: "BCA web form or portal",
}


class BcaNotice(Base):
    """A notice owed to the BCA for one event, from opening to the BCA's acknowledgement."""

    __tablename__ = "bca_notices"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(BcaNoticeStatus)})", name="known_status"),
        CheckConstraint(f"event IN ({sql_values(BcaEvent)})", name="known_event"),
        CheckConstraint(
            f"sent_method IS NULL OR sent_method IN ({sql_values(SendMethod)})",
            name="known_method",
        ),
        CheckConstraint(
            "(event = 'fixed_location') = (deployment_id IS NOT NULL)",
            name="location_has_deployment",
        ),
        CheckConstraint("due_on > event_on", name="due_after_event"),
        CheckConstraint(
            "status = 'open' OR (sent_on IS NOT NULL AND sent_method IS NOT NULL "
            "AND sent_to IS NOT NULL)",
            name="sent_has_facts",
        ),
        CheckConstraint("sent_on IS NULL OR sent_on >= event_on", name="sent_after_event"),
        CheckConstraint(
            "status <> 'acknowledged' OR acknowledged_on IS NOT NULL", name="acknowledged_dated"
        ),
        CheckConstraint(
            "acknowledged_on IS NULL OR acknowledged_on >= sent_on",
            name="acknowledged_after_sent",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str] = mapped_column(String(40), unique=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployments.id"))
    #: The department's calendar date of the event; the notice is due NOTICE_DAYS after it.
    event_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default=BcaNoticeStatus.OPEN.value)
    sent_on: Mapped[date | None] = mapped_column(Date)
    sent_method: Mapped[str | None] = mapped_column(String(16))
    sent_to: Mapped[str | None] = mapped_column(String(RECIPIENT_MAX))
    sent_reference: Mapped[str | None] = mapped_column(String(REFERENCE_MAX))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    letter_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_documents.sha256"))
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    acknowledgement_note: Mapped[str | None] = mapped_column(String(NOTE_MAX))
    #: When the daily job first reported the notice overdue (it reports each notice once).
    overdue_flagged_at: Mapped[datetime | None]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    device = relationship("Device")
    deployment = relationship("Deployment")
    sent_by = relationship("User")

    @property
    def event_label(self) -> str:
        """The event in words."""
        return BcaEvent(self.event).label

    @property
    def method_label(self) -> str:
        """How it was sent, in words, or '' while open."""
        return SendMethod(self.sent_method).label if self.sent_method else ""

    def days_left(self, today: date) -> int:
        """Days until the due date (0 on it, negative once past)."""
        return (self.due_on - today).days
