"""Retention (policy 425.5): holds, exculpatory and ACP requests, purges."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, sql_values, utcnow
from app.investigations.models import Investigation
from app.reads.models import BigId

#: The reference of a written request's paper original on file: its records file number and
#: where it is kept (425.5(a)/(b) need the written request; a scan or this reference shows it).
PAPER_ORIGINAL_MAX = 200


class StoredDocument(Base):
    """A scanned written request, kept content-addressed under the document store."""

    __tablename__ = "stored_documents"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(64))
    byte_size: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str] = mapped_column(String(255))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class HoldKind(StrEnum):
    """Why a hold exists: an investigation or an exculpatory request."""

    INVESTIGATION = "investigation"
    EXCULPATORY = "exculpatory"


class HoldStatus(StrEnum):
    """Stored hold statuses (see workflow.py): placed, then released (final)."""

    PLACED = "placed"
    RELEASED = "released"


class Hold(Base):
    """Keeps the reads inside its scope past 60 days while its reason is in force.

    Scope: a bounded time window, narrowed by plates and/or devices when they are listed.
    An investigation hold is in force while it is placed and its investigation is active; an
    exculpatory hold while it is placed and its request is received or active
    (EXCULPATORY_HOLDING). ``released_at`` is when a released hold was released.
    """

    __tablename__ = "holds"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_values(HoldKind)})", name="known_kind"),
        CheckConstraint(f"status IN ({sql_values(HoldStatus)})", name="known_status"),
        CheckConstraint(
            "(status = 'placed' AND released_at IS NULL) "
            "OR (status = 'released' AND released_at IS NOT NULL)",
            name="released_when",
        ),
        CheckConstraint("window_end > window_start", name="bounded_window"),
        CheckConstraint(
            "(kind = 'investigation' AND investigation_id IS NOT NULL) "
            "OR (kind = 'exculpatory' AND exculpatory_request_id IS NOT NULL)",
            name="has_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    investigation_id: Mapped[int | None] = mapped_column(
        ForeignKey("investigations.id"), index=True
    )
    exculpatory_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("exculpatory_requests.id"), index=True
    )
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=HoldStatus.PLACED.value)
    released_at: Mapped[datetime | None]

    plates: Mapped[list[HoldPlate]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    devices: Mapped[list[HoldDevice]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    investigation: Mapped[Investigation | None] = relationship()


class HoldPlate(Base):
    """A plate a hold is narrowed to (stored as the reads store it)."""

    __tablename__ = "hold_plates"

    hold_id: Mapped[int] = mapped_column(
        ForeignKey("holds.id", ondelete="CASCADE"), primary_key=True
    )
    plate: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)


class HoldDevice(Base):
    """A device a hold is narrowed to."""

    __tablename__ = "hold_devices"

    hold_id: Mapped[int] = mapped_column(
        ForeignKey("holds.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    #: The device itself, so pages name it by its serial rather than its id.
    device = relationship("Device", lazy="joined")


class ExculpatoryStatus(StrEnum):
    """Stored exculpatory request statuses (see workflow.py)."""

    RECEIVED = "received"
    ACTIVE = "active"
    RELEASED = "released"
    DECLINED = "declined"


#: The statuses in which a subject's written request keeps its data (425.5(a)): from receipt
#: until the criminal matter is resolved (released) or the request is declined.
EXCULPATORY_HOLDING = (ExculpatoryStatus.RECEIVED.value, ExculpatoryStatus.ACTIVE.value)


class ExculpatoryRequest(Base):
    """A subject's written request to keep data as exculpatory evidence (425.5(a)).

    Its hold keeps the data from receipt (received or active) until the request is released
    (the matter resolved: disposition and date) or declined (it does not qualify: reason).
    """

    __tablename__ = "exculpatory_requests"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(ExculpatoryStatus)})", name="known_status"),
        CheckConstraint(
            "status <> 'released' OR (disposition IS NOT NULL AND resolved_on IS NOT NULL)",
            name="release_needs_resolution",
        ),
        CheckConstraint(
            "status <> 'declined' OR decline_reason IS NOT NULL", name="decline_needs_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_name: Mapped[str] = mapped_column(String(200))
    case_file_number: Mapped[str] = mapped_column(String(64))
    received_on: Mapped[date] = mapped_column(Date)
    document_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_documents.sha256"))
    paper_original: Mapped[str | None] = mapped_column(String(PAPER_ORIGINAL_MAX))
    status: Mapped[str] = mapped_column(String(16), default=ExculpatoryStatus.RECEIVED.value)
    disposition: Mapped[str | None] = mapped_column(Text)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    holds: Mapped[list[Hold]] = relationship(foreign_keys=[Hold.exculpatory_request_id])


class AcpStatus(StrEnum):
    """Stored ACP request statuses (see workflow.py)."""

    RECEIVED = "received"
    VERIFIED = "verified"
    EXISTING_DESTROYED = "existing_destroyed"
    SUPPRESSION_ACTIVE = "suppression_active"
    ENDED = "ended"
    DECLINED = "declined"


class AcpRequest(Base):
    """An Address Confidentiality Program participant's written request (425.5(b)).

    Its plates are suppressed from its entry until it ends or is declined (see
    :data:`app.retention.acp.screening.SUPPRESSING_STATUSES`).
    """

    __tablename__ = "acp_requests"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(AcpStatus)})", name="known_status"),
        CheckConstraint(
            "status <> 'declined' OR decline_reason IS NOT NULL", name="decline_needs_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_number: Mapped[str] = mapped_column(String(64))
    received_on: Mapped[date] = mapped_column(Date)
    document_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_documents.sha256"))
    paper_original: Mapped[str | None] = mapped_column(String(PAPER_ORIGINAL_MAX))
    status: Mapped[str] = mapped_column(String(24), default=AcpStatus.RECEIVED.value)
    existing_destroyed: Mapped[int] = mapped_column(Integer, default=0)
    deferred: Mapped[int] = mapped_column(Integer, default=0)
    destroyed_at_collection: Mapped[int] = mapped_column(Integer, default=0)
    ended_on: Mapped[date | None] = mapped_column(Date)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    plates: Mapped[list[AcpPlate]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class AcpPlate(Base):
    """A participant's plate, only ever as a keyed HMAC of the normalised plate."""

    __tablename__ = "acp_plates"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("acp_requests.id", ondelete="CASCADE"), primary_key=True
    )
    plate_hmac: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class AcpSuppressedRead(Base):
    """A read already collected when a participant's request was entered, out of use since.

    Suppression starts at the entry of the written request (425.5(b)); the read itself goes only
    when the request's existing data is destroyed (after verification), so until then it is
    kept but handed to no one: searches, plate histories, hits and read pages leave it out
    (:func:`app.retention.acp.suppression.visible_reads`). The rows of a request go when its
    existing data is destroyed (what a hold keeps is then ACP-deferred) or it is declined. No
    foreign key to ``reads``: a day's partition leaves whole in the purge, and a row left
    behind by a destroyed read names no plate and matches no other read (its capture time
    comes with its id).
    """

    __tablename__ = "acp_suppressed_reads"
    __table_args__ = (Index("ix_acp_suppressed_reads_read", "read_id", "read_captured_at"),)

    request_id: Mapped[int] = mapped_column(
        ForeignKey("acp_requests.id", ondelete="CASCADE"), primary_key=True
    )
    read_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    read_captured_at: Mapped[datetime]


class AcpDestroyedRead(Base):
    """A read an ACP request destroyed at collection, known only by a keyed digest.

    The digest (HMAC with the ACP key) covers who sent the read, its client id or plate and its
    capture time, never in clear: a resend of the read is then known and counted nowhere,
    where the read itself could not be kept to compare with. Kept until the read would have
    been past retention (a resend is refused by then); the purge removes it.
    """

    __tablename__ = "acp_destroyed_reads"

    key_hmac: Mapped[str] = mapped_column(String(64), primary_key=True)
    captured_at: Mapped[datetime] = mapped_column(index=True)


class ImageTombstone(Base):
    """An image file whose rows are gone: removed after the commit, retried if a run dies."""

    __tablename__ = "image_tombstones"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)


class PurgeRun(Base):
    """Counts (never plates) of one purge, for the dashboard and the biennial report."""

    __tablename__ = "purge_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    cutoff: Mapped[datetime]
    reads_destroyed: Mapped[int] = mapped_column(BigInteger, default=0)
    images_destroyed: Mapped[int] = mapped_column(BigInteger, default=0)
    acp_deferred_destroyed: Mapped[int] = mapped_column(BigInteger, default=0)
