"""Agency data requests (policy 425.7, Minn. Stat. § 13.824): who asks, for what, and the answer.

An outside agency's written request carries 425.7(a)'s five items and the scope of the data it
wants; the Deputy Chief or designee approve it on a stated reasonable suspicion that the data
is pertinent to an active criminal investigation (425.7(b)), and the approved request is kept
on file (425.7(c)). Requests are never deleted: there is no purge of this table, and the
stored letter's row is kept by its foreign key. Its steps are taken by
:mod:`app.requests.workflow`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, sql_values, utcnow

NAME_MAX = 200
PURPOSE_MAX = 2000
BASIS_MAX = 4000
CASE_NUMBER_MAX = 64
FINDING_MAX = 4000
INVESTIGATION_MAX = 300
REASON_MAX = 2000
MESSAGE_MAX = 4000
#: More plates than one request needs; a broader sweep is not one investigation's data.
PLATES_MAX = 50


class AgencyKind(StrEnum):
    """What body an agency is: 425.7 releases only to law-enforcement or prosecutorial ones."""

    LAW_ENFORCEMENT = "law_enforcement"
    PROSECUTORIAL = "prosecutorial"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The words staff see."""
        return AGENCY_KIND_LABELS[self]

    @property
    def may_receive_data(self) -> bool:
        """Whether 425.7 lets this kind of body receive ALPR data at all."""
        return self is not AgencyKind.OTHER


AGENCY_KIND_LABELS = {
    AgencyKind.LAW_ENFORCEMENT: "Law-enforcement agency",
    AgencyKind.PROSECUTORIAL: "Prosecutorial agency",
    AgencyKind.OTHER: "Other body (requests go to Records Maintenance and Release)",
}


class Authoriser(StrEnum):
    """Who authorised a request in the agency (425.7(a)(5)): its head, or their designee."""

    HEAD = "head"
    DESIGNEE = "designee"


class AgencyProfile(Base):
    """What the department records of an agency for 425.7: its kind, its head and designee."""

    __tablename__ = "agency_profiles"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_values(AgencyKind)})", name="known_kind"),
        CheckConstraint(
            "designee_title IS NULL OR designee_name IS NOT NULL", name="designee_named"
        ),
    )

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    head_name: Mapped[str] = mapped_column(String(NAME_MAX))
    head_title: Mapped[str | None] = mapped_column(String(NAME_MAX))
    designee_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    designee_title: Mapped[str | None] = mapped_column(String(NAME_MAX))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agency = relationship("Agency")

    @property
    def kind_label(self) -> str:
        """The kind as staff read it."""
        return AgencyKind(self.kind).label

    def authorisers(self) -> dict[str, str]:
        """Who may authorise the agency's requests, by role: the head, and a designee if any."""
        people = {Authoriser.HEAD.value: self.head_name}
        if self.designee_name:
            people[Authoriser.DESIGNEE.value] = self.designee_name
        return people


class RequestStatus(StrEnum):
    """Stored agency request statuses (see workflow.py for the order they come in)."""

    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    NEEDS_INFORMATION = "needs_information"
    APPROVED = "approved"
    DENIED = "denied"
    REFERRED_TO_RECORDS = "referred_to_records"
    WITHDRAWN = "withdrawn"
    FULFILLED = "fulfilled"
    CLOSED = "closed"


#: States of a request not yet decided: the queue shows these unless asked for others.
OPEN_STATES = (
    RequestStatus.SUBMITTED.value,
    RequestStatus.UNDER_REVIEW.value,
    RequestStatus.NEEDS_INFORMATION.value,
)
#: States reached only through an approval: the finding must be on the row (a CHECK pins it).
APPROVED_STATES = (
    RequestStatus.APPROVED.value,
    RequestStatus.FULFILLED.value,
    RequestStatus.CLOSED.value,
)


class AgencyRequest(Base):
    """One written request of an outside agency for ALPR data (425.7(a)), and its answer."""

    __tablename__ = "agency_requests"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(RequestStatus)})", name="known_status"),
        CheckConstraint(
            f"authorised_by_role IN ({sql_values(Authoriser)})", name="known_authoriser"
        ),
        CheckConstraint("window_start < window_end", name="window_ordered"),
        CheckConstraint(
            "(min_lat IS NULL AND max_lat IS NULL AND min_lon IS NULL AND max_lon IS NULL) "
            "OR (min_lat < max_lat AND min_lon < max_lon)",
            name="area_whole",
        ),
        CheckConstraint(
            f"status NOT IN ({', '.join(repr(s) for s in APPROVED_STATES)}) "
            "OR (finding IS NOT NULL AND active_investigation IS NOT NULL)",
            name="approval_has_finding",
        ),
        Index("ix_agency_requests_status_submitted", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(24), default=RequestStatus.SUBMITTED.value)
    # 425.7(a)(1)-(5): the agency, the person requesting, the purpose, the factual basis with
    # its case number, and who in the agency authorised it (with the signed letter).
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requester_name: Mapped[str] = mapped_column(String(NAME_MAX))
    purpose: Mapped[str] = mapped_column(Text)
    factual_basis: Mapped[str] = mapped_column(Text)
    case_number: Mapped[str] = mapped_column(String(CASE_NUMBER_MAX))
    authorised_by_name: Mapped[str] = mapped_column(String(NAME_MAX))
    authorised_by_role: Mapped[str] = mapped_column(String(16))
    letter_sha256: Mapped[str] = mapped_column(ForeignKey("stored_documents.sha256"))
    # the scope: a window inside retention, plates and/or devices and/or an area
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    min_lon: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    #: The request form's one-time key: the same form sent twice is one request.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The reviewer's open question while the request needs information.
    question: Mapped[str | None] = mapped_column(Text)
    # 425.7(b): the decision, by the Deputy Chief or designee
    finding: Mapped[str | None] = mapped_column(Text)
    active_investigation: Mapped[str | None] = mapped_column(String(INVESTIGATION_MAX))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    fulfilled_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agency = relationship("Agency")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    letter = relationship("StoredDocument")
    #: What the department recorded of the agency (its kind decides whether it may receive).
    profile: Mapped[AgencyProfile | None] = relationship(
        primaryjoin="foreign(AgencyRequest.agency_id) == AgencyProfile.agency_id",
        viewonly=True,
        uselist=False,
    )
    plates: Mapped[list[AgencyRequestPlate]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AgencyRequestPlate.plate"
    )
    devices: Mapped[list[AgencyRequestDevice]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AgencyRequestDevice.device_id"
    )

    @property
    def box(self) -> tuple[float, float, float, float] | None:
        """The area (south, north, west, east), or None."""
        if self.min_lat is None:
            return None
        return (self.min_lat, self.max_lat, self.min_lon, self.max_lon)  # type: ignore[return-value]


class AgencyRequestPlate(Base):
    """A plate a request names: exact, or partial with ``%`` for the wildcards."""

    __tablename__ = "agency_request_plates"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("agency_requests.id", ondelete="CASCADE"), primary_key=True
    )
    plate: Mapped[str] = mapped_column(String(16), primary_key=True)


class AgencyRequestDevice(Base):
    """A department device a request's scope names."""

    __tablename__ = "agency_request_devices"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("agency_requests.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    #: The device itself, so pages name it by its serial rather than its id.
    device = relationship("Device", lazy="joined")


class AgencyInvitation(Base):
    """An agency user's invitation: a link, shown once, with which they choose a password.

    Only the link's SHA-256 is stored; it works once, and only until `expires_at`.
    """

    __tablename__ = "agency_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]

    user = relationship("User", foreign_keys=[user_id])


class ReleasePackage(Base):
    """A release of an approved request's data: a ZIP built by a job, downloaded by the agency.

    It holds what existed when it was built. The agency downloads it until `expires_at`; then
    the scheduled cleanup deletes the file (`file_deleted_at`) and the row stays, with its
    digest and counts, as the record of what was disseminated.
    """

    __tablename__ = "release_packages"
    __table_args__ = (
        CheckConstraint(
            "built_at IS NULL OR (sha256 IS NOT NULL AND read_count IS NOT NULL "
            "AND expires_at IS NOT NULL AND file_name IS NOT NULL)",
            name="built_is_whole",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("agency_requests.id"), index=True)
    job_run_id: Mapped[int | None] = mapped_column(ForeignKey("job_runs.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    built_at: Mapped[datetime | None]
    file_name: Mapped[str | None] = mapped_column(String(200))
    byte_size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    read_count: Mapped[int | None] = mapped_column(Integer)
    image_count: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    file_deleted_at: Mapped[datetime | None]

    request: Mapped[AgencyRequest] = relationship()
    job_run = relationship("JobRun")

    def is_downloadable(self, now: datetime) -> bool:
        """Built, its file still kept, and its link not yet expired."""
        return (
            self.built_at is not None
            and self.file_deleted_at is None
            and self.expires_at is not None
            and self.expires_at > now
        )

    def has_expired(self, now: datetime) -> bool:
        """Built once, and its link or its file is gone now."""
        return self.built_at is not None and not self.is_downloadable(now)


class OutboxMessage(Base):
    """An email the app owes someone, kept whether or not it could be sent.

    Written in the same transaction as the step it tells of; a job sends it by SMTP when a
    server is configured (`sent_at`), and an administrator reads the outbox page either way.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("agency_requests.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
