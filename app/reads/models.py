"""ALPR data (policy 425.4.1): devices, fixed deployments, reads, images, hotlists, hits, searches.

A read holds only what the statute allows: plate; date, time and location; pictures of plate,
vehicle and surroundings; plus provenance (device, source agency) and OCR confidence.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, sql_values, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class DeviceKind(StrEnum):
    """Mobile (a patrol car) or fixed (a pole, with deployments)."""

    MOBILE = "mobile"
    FIXED = "fixed"


class DeviceStatus(StrEnum):
    """A revoked device's token no longer opens the API."""

    ACTIVE = "active"
    REVOKED = "revoked"


class CameraFormat(StrEnum):
    """The vendor payload a camera posts to ``/api/v1/cameras/<format>`` (app.alpr.adapters)."""

    OPENALPR = "openalpr"
    PLATERECOGNIZER = "platerecognizer"
    AXIS = "axis"
    GENETEC = "genetec"
    VERKADA = "verkada"


class DateOrder(StrEnum):
    """How a camera writes a calendar date (Genetec follows the Windows locale)."""

    MDY = "MDY"
    DMY = "DMY"
    YMD = "YMD"


class Device(Base):
    """A camera. Its API token is shown once and stored only as a SHA-256 digest."""

    __tablename__ = "devices"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_values(DeviceKind)})", name="known_kind"),
        CheckConstraint(f"status IN ({sql_values(DeviceStatus)})", name="known_status"),
        CheckConstraint(
            f"camera_format IS NULL OR camera_format IN ({sql_values(CameraFormat)})",
            name="known_camera_format",
        ),
        CheckConstraint(
            f"date_order IS NULL OR date_order IN ({sql_values(DateOrder)})",
            name="known_date_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(300), default="")
    installed_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=DeviceStatus.ACTIVE.value)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str | None] = mapped_column(String(12))
    token_issued_at: Mapped[datetime | None]
    first_used_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The vendor format it posts (None: it speaks the JSON API only); its date order, if any.
    camera_format: Mapped[str | None] = mapped_column(String(16))
    date_order: Mapped[str | None] = mapped_column(String(3))

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="device", order_by="Deployment.started_on.desc()"
    )


class Deployment(Base):
    """A fixed device's location over a period.

    Security information (Minn. Stat. § 13.37 subd. 2) stays off the public lists.
    """

    __tablename__ = "deployments"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="ends_after_start"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint(
            "NOT security_information OR security_reason IS NOT NULL",
            name="security_needs_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    location_name: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    security_information: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The last decision on the mark: who took it, when, and why (§ 13.37 subd. 2).
    security_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    security_decided_at: Mapped[datetime | None]
    security_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    device: Mapped[Device] = relationship(back_populates="deployments")
    security_decided_by = relationship("User")


class PlateStatus(StrEnum):
    """Where a read's plate came from and whether a person must look at it."""

    REPORTED = "reported"  # sent by the device as text
    PENDING_OCR = "pending_ocr"  # image-only read waiting for the OCR job
    OCR_ACCEPTED = "ocr_accepted"  # OCR engines agreed with enough confidence
    NEEDS_REVIEW = "needs_review"  # OCR unsure or engines disagree: an operator confirms
    CONFIRMED = "confirmed"  # an operator confirmed the OCR plate
    CORRECTED = "corrected"  # an operator corrected the OCR plate
    UNREADABLE = "unreadable"  # no plate could be read


class Read(Base):
    """One plate read. Nothing outside 425.4.1(a)'s list is stored."""

    __tablename__ = "reads"
    __table_args__ = (
        CheckConstraint(f"plate_status IN ({sql_values(PlateStatus)})", name="known_plate_status"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint(
            "device_id IS NOT NULL OR source_agency_id IS NOT NULL", name="has_provenance"
        ),
        # On PostgreSQL `reads` is partitioned by collection day (app.reads.partitions), and every
        # unique key there must hold the partition key, so captured_at is part of each one: a
        # resend repeats its capture time, so it still collides. The primary key there is
        # (id, captured_at), which is also what the pictures and hits refer to; on SQLite the
        # table is plain and uq_reads_id_captured_at is that reference target.
        UniqueConstraint(
            "device_id", "client_read_id", "captured_at", name="uq_reads_device_client_read"
        ),
        UniqueConstraint("id", "captured_at", name="uq_reads_id_captured_at"),
        # text_pattern_ops serves both `plate = :p ORDER BY captured_at` and `plate LIKE 'AB%'`.
        Index(
            "ix_reads_plate_captured_at",
            "plate",
            "captured_at",
            postgresql_ops={"plate": "text_pattern_ops"},
        ),
        # A resent batch stores nothing twice (ingest inserts with ON CONFLICT DO NOTHING):
        # reads without a client id are the same read when device, plate and time agree;
        # another agency's reads (no device) dedupe the same way within their agency.
        Index(
            "uq_reads_device_plate_captured_at",
            "device_id",
            "plate",
            "captured_at",
            unique=True,
            postgresql_where=text("client_read_id IS NULL"),
            sqlite_where=text("client_read_id IS NULL"),
        ),
        Index(
            "uq_reads_agency_client_read",
            "source_agency_id",
            "client_read_id",
            "captured_at",
            unique=True,
            postgresql_where=text("device_id IS NULL"),
            sqlite_where=text("device_id IS NULL"),
        ),
        Index(
            "uq_reads_agency_plate_captured_at",
            "source_agency_id",
            "plate",
            "captured_at",
            unique=True,
            postgresql_where=text("device_id IS NULL AND client_read_id IS NULL"),
            sqlite_where=text("device_id IS NULL AND client_read_id IS NULL"),
        ),
        Index("ix_reads_device_captured_at", "device_id", "captured_at"),
        # The reads waiting for OCR, oldest first, for staff and the home page's count.
        Index(
            "ix_reads_pending_ocr",
            "received_at",
            postgresql_where=text("plate_status = 'pending_ocr'"),
            sqlite_where=text("plate_status = 'pending_ocr'"),
        ),
        # The purge finds ACP-deferred reads (425.5(b)) without scanning the table.
        Index(
            "ix_reads_acp_deferred_at",
            "acp_deferred_at",
            postgresql_where=text("acp_deferred_at IS NOT NULL"),
            sqlite_where=text("acp_deferred_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    source_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    plate: Mapped[str | None] = mapped_column(String(16))
    captured_at: Mapped[datetime] = mapped_column(index=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    client_read_id: Mapped[str | None] = mapped_column(String(64))
    plate_status: Mapped[str] = mapped_column(String(16), default=PlateStatus.REPORTED.value)
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    ocr_candidates: Mapped[str | None] = mapped_column(Text)
    active_use_period_id: Mapped[int | None] = mapped_column(
        ForeignKey("active_use_periods.id", ondelete="SET NULL"), index=True
    )
    acp_deferred_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    device: Mapped[Device | None] = relationship()
    images: Mapped[list[ReadImage]] = relationship(
        back_populates="read", cascade="all, delete-orphan", passive_deletes=True
    )


class ImageKind(StrEnum):
    """The pictures 425.4.1(a) allows: plate, vehicle, surroundings."""

    PLATE = "plate"
    VEHICLE = "vehicle"
    OVERVIEW = "overview"


class ReadImage(Base):
    """A picture of a read, stored content-addressed on disk by its SHA-256."""

    __tablename__ = "read_images"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_values(ImageKind)})", name="known_kind"),
        UniqueConstraint("read_id", "kind", name="uq_read_images_read_kind"),
        ForeignKeyConstraint(
            ["read_id", "read_captured_at"],
            ["reads.id", "reads.captured_at"],
            ondelete="CASCADE",
            name="fk_read_images_read_reads",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    read_id: Mapped[int] = mapped_column(BigId)
    #: The read's collection time: the day partition the read lives in (app.reads.partitions).
    read_captured_at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(32))
    byte_size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    read: Mapped[Read] = relationship(back_populates="images")


class ActiveUsePeriod(Base):
    """A device's period of active use with the public log's counts (425.5.1).

    Maintained at ingest and never recomputed from reads, which may have been destroyed.
    """

    __tablename__ = "active_use_periods"
    __table_args__ = (Index("ix_active_use_periods_device_ended", "device_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployments.id"))
    location_name: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    plates_read: Mapped[int] = mapped_column(Integer, default=0)
    sources_compared: Mapped[str] = mapped_column(Text, default="[]")
    hits_stolen: Mapped[int] = mapped_column(Integer, default=0)
    hits_warrant: Mapped[int] = mapped_column(Integer, default=0)
    hits_suspended_revoked: Mapped[int] = mapped_column(Integer, default=0)
    hits_investigative: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HotlistCategory(StrEnum):
    """What a hotlist entry is for; the public log counts hits by these (425.5.1(c))."""

    STOLEN_VEHICLE = "stolen_vehicle"
    STOLEN_PLATE = "stolen_plate"
    WARRANT = "warrant"
    SUSPENDED_REVOKED = "suspended_revoked"
    INVESTIGATIVE = "investigative"


class HotlistSourceKind(StrEnum):
    """The state file, or another source tied to an active investigation (425.4.1(b))."""

    MN_PLATE_FILE = "mn_plate_file"  # the Minnesota license plate data file (425.4.1(b))
    INVESTIGATION = "investigation"  # any other source: only for an active investigation


class HotlistSource(Base):
    """A list reads are compared with; anything but the state file names its investigation."""

    __tablename__ = "hotlist_sources"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_values(HotlistSourceKind)})", name="known_kind"),
        CheckConstraint(
            "kind = 'mn_plate_file' OR investigation_id IS NOT NULL",
            name="other_sources_need_investigation",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    investigation_id: Mapped[int | None] = mapped_column(ForeignKey("investigations.id"))
    entry_count: Mapped[int] = mapped_column(Integer, default=0)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    loaded_at: Mapped[datetime | None]
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HotlistEntry(Base):
    """One plate on a hotlist; a load replaces all of its source's entries at once."""

    __tablename__ = "hotlist_entries"
    __table_args__ = (
        CheckConstraint(f"category IN ({sql_values(HotlistCategory)})", name="known_category"),
        Index("ix_hotlist_entries_plate", "plate"),
        Index("ix_hotlist_entries_source", "source_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("hotlist_sources.id", ondelete="CASCADE"))
    plate: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(24))
    reference: Mapped[str | None] = mapped_column(String(64))


class HitStatus(StrEnum):
    """Where a hit alert stands in its workflow."""

    NEW = "new"
    CONFIRMED = "confirmed"  # verified through MNJIS/NLETS and valid (425.4(f))
    NOT_VALID = "not_valid"  # verified through MNJIS/NLETS and not valid: no enforcement
    IMPRACTICABLE = "impracticable"  # verification not practicable: enforcement with the reason
    CLOSED = "closed"


class Hit(Base):
    """A read that matched a hotlist entry: an alert an operator works.

    A verification (valid or not) keeps the system asked (`verified_via`), the query's
    reference and its time (`verified_at`); hits verified before references were kept have
    neither.
    """

    __tablename__ = "hits"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(HitStatus)})", name="known_status"),
        CheckConstraint(
            "status <> 'impracticable' OR impracticable_reason IS NOT NULL",
            name="impracticable_needs_reason",
        ),
        CheckConstraint(f"category IN ({sql_values(HotlistCategory)})", name="known_category"),
        Index("ix_hits_status_created", "status", "created_at"),
        ForeignKeyConstraint(
            ["read_id", "read_captured_at"],
            ["reads.id", "reads.captured_at"],
            ondelete="CASCADE",
            name="fk_hits_read_reads",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    read_id: Mapped[int] = mapped_column(BigId, index=True)
    #: The read's collection time: the day partition the read lives in (app.reads.partitions).
    read_captured_at: Mapped[datetime] = mapped_column(index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("hotlist_sources.id"))
    category: Mapped[str] = mapped_column(String(24))
    hotlist_reference: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=HitStatus.NEW.value)
    verified_via: Mapped[str | None] = mapped_column(String(64))
    verification_reference: Mapped[str | None] = mapped_column(String(100))
    verified_at: Mapped[datetime | None]
    enforcement_action: Mapped[str | None] = mapped_column(Text)
    impracticable_reason: Mapped[str | None] = mapped_column(Text)
    closing_note: Mapped[str | None] = mapped_column(Text)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    read: Mapped[Read] = relationship()
    source: Mapped[HotlistSource] = relationship()


class PurposeCategory(StrEnum):
    """The official uses of ALPR that policy 425.3 and 425.6(b) name: why a search was run."""

    STOLEN_OR_WANTED_VEHICLE = "stolen_or_wanted_vehicle"
    STOLEN_PLATE = "stolen_plate"
    MISSING_PERSON = "missing_person"
    WARRANT = "warrant"
    HOMELAND_SECURITY = "homeland_security"
    ELECTRONIC_SURVEILLANCE = "electronic_surveillance"
    SUSPECT_INTERDICTION = "suspect_interdiction"
    STOLEN_PROPERTY_RECOVERY = "stolen_property_recovery"
    CRIMINAL_INVESTIGATION = "criminal_investigation"
    CIVIL_OR_ADMINISTRATIVE = "civil_or_administrative"

    @property
    def label(self) -> str:
        """The words on the search form and in reports."""
        return PURPOSE_LABELS[self]


PURPOSE_LABELS = {
    PurposeCategory.STOLEN_OR_WANTED_VEHICLE: "Stolen or wanted vehicle",
    PurposeCategory.STOLEN_PLATE: "Stolen license plate",
    PurposeCategory.MISSING_PERSON: "Missing person",
    PurposeCategory.WARRANT: "Active warrant",
    PurposeCategory.HOMELAND_SECURITY: "Homeland security",
    PurposeCategory.ELECTRONIC_SURVEILLANCE: "Electronic surveillance",
    PurposeCategory.SUSPECT_INTERDICTION: "Suspect interdiction",
    PurposeCategory.STOLEN_PROPERTY_RECOVERY: "Stolen property recovery",
    PurposeCategory.CRIMINAL_INVESTIGATION: "Specific criminal investigation",
    PurposeCategory.CIVIL_OR_ADMINISTRATIVE: "Department civil or administrative action",
}


class Search(Base):
    """A query of ALPR data with its stated purpose and case number (425.6(b), 425.4.1(c)).

    `purpose_category` is empty only on searches recorded before categories existed.
    `followed_plate` is the one plate a search followed (exact, or the single plate a partial
    one matched), so the tracking guard can add up its windows across searches. A search of an
    ACP participant's plate (425.5(b)) keeps it never in clear: `protected_request_id` names the
    request that protects the plate, and `followed_plate_hmac` its keyed digest (the ACP key),
    which the guard compares instead.
    """

    __tablename__ = "searches"
    __table_args__ = (
        CheckConstraint(
            f"purpose_category IS NULL OR purpose_category IN ({sql_values(PurposeCategory)})",
            name="known_purpose_category",
        ),
        Index("ix_searches_followed_plate", "followed_plate", "created_at"),
        Index("ix_searches_followed_plate_hmac", "followed_plate_hmac", "created_at"),
        CheckConstraint("length(purpose) > 0", name="has_purpose"),
        CheckConstraint("length(case_number) > 0", name="has_case_number"),
        CheckConstraint(
            "NOT is_tracking OR warrant_number IS NOT NULL OR exigent_statement IS NOT NULL",
            name="tracking_needs_warrant_or_exigency",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose_category: Mapped[str | None] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(Text)
    case_number: Mapped[str] = mapped_column(String(64))
    followed_plate: Mapped[str | None] = mapped_column(String(10))
    followed_plate_hmac: Mapped[str | None] = mapped_column(String(64))
    protected_request_id: Mapped[int | None] = mapped_column(ForeignKey("acp_requests.id"))
    investigation_id: Mapped[int | None] = mapped_column(ForeignKey("investigations.id"))
    criteria_json: Mapped[str] = mapped_column(Text)
    is_tracking: Mapped[bool] = mapped_column(Boolean, default=False)
    warrant_number: Mapped[str | None] = mapped_column(String(64))
    exigent_statement: Mapped[str | None] = mapped_column(Text)
    result_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    user = relationship("User")


class SearchShownRead(Base):
    """A read a search's result page showed: what that search's context may open (425.6(e)).

    No foreign key to ``reads``: the purge destroys reads by whole day partitions, and an id
    left behind names nothing.
    """

    __tablename__ = "search_shown_reads"

    search_id: Mapped[int] = mapped_column(
        ForeignKey("searches.id", ondelete="CASCADE"), primary_key=True
    )
    read_id: Mapped[int] = mapped_column(BigId, primary_key=True)


class CameraDiscard(Base):
    """How often a camera sent a field the adapter threw away (425.4.1(a)), never its value.

    Shown on the device page so the department can switch the field off at the source.
    """

    __tablename__ = "camera_discards"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    field: Mapped[str] = mapped_column(String(80), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_discarded_at: Mapped[datetime] = mapped_column(default=utcnow)
