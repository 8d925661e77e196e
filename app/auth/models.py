"""Accounts, roles, agencies and department-approved training (policy 425.4(d), 425.6(a))."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    false,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from app.db import Base, sql_values, utcnow


class Role(StrEnum):
    """The roles of DESIGN.md's user table; stored as the value."""

    ADMIN = "admin"
    DEPUTY_CHIEF = "deputy_chief"
    DESIGNEE = "designee"
    OPERATOR = "operator"
    RECORDS = "records"
    AUDITOR = "auditor"
    AGENCY = "agency"
    #: Not a job but a clearance held beside one: confidential department, state or federal
    #: data (a hotlist entry's NCIC or MNJIS record number) is shown only to its holders
    #: (425.4(e)).
    CONFIDENTIAL_DATA = "confidential_data"

    @property
    def label(self) -> str:
        """The name staff see."""
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "ALPR administrator",
    Role.DEPUTY_CHIEF: "Deputy Chief",
    Role.DESIGNEE: "Deputy Chief's designee",
    Role.OPERATOR: "Operator (trained officer)",
    Role.RECORDS: "Records staff",
    Role.AUDITOR: "Auditor",
    Role.AGENCY: "Outside agency",
    Role.CONFIDENTIAL_DATA: "Authorised for confidential state and federal data",
}

ROLE_VALUES = ", ".join(f"'{r.value}'" for r in Role)

#: Roles that administer accounts' technical state (creation, activation); at least one
#: active account must hold one, or nobody could fix accounts again
#: (:func:`app.auth.accounts.set_roles`).
ADMIN_ROLES = frozenset({Role.ADMIN, Role.DEPUTY_CHIEF})
#: Roles that only the Deputy Chief may grant or remove: 425.3 has the Deputy Chief assign
#: their designees.
DEPUTY_CHIEF_GRANTS = frozenset({Role.DEPUTY_CHIEF, Role.DESIGNEE})
#: The roles that grant access to ALPR data and record training (425.3).
ACCESS_GRANTORS = frozenset({Role.DEPUTY_CHIEF, Role.DESIGNEE})
#: Roles granted and removed only by the Deputy Chief or designee, each on a written
#: authorisation (425.3, § 13.824 subd. 7): every department role, since each reaches ALPR
#: data or the records that name it (the audit trail, the retention pages). An agency account
#: reaches only what the Deputy Chief released to its agency (425.7).
WRITTEN_GRANT_ROLES = frozenset(r for r in Role if r is not Role.AGENCY)


class Agency(Base):
    """An outside law-enforcement or prosecutorial agency (its users, requests, shared data).

    An agency that shares its ALPR data pushes it to ``POST /api/v1/agency-reads`` with an API
    token that, like a device's, is shown once and stored only as a SHA-256 digest
    (:func:`app.auth.agencies.issue_agency_token`). A revoked token keeps its digest, so it is
    answered 403 rather than 401 until a new one replaces it.
    """

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    ori: Mapped[str | None] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    api_token_hint: Mapped[str | None] = mapped_column(String(12))
    api_token_issued_at: Mapped[datetime | None]
    api_token_revoked_at: Mapped[datetime | None]

    @property
    def api_token_active(self) -> bool:
        """Whether the agency holds a token the agency API accepts."""
        return self.api_token_hash is not None and self.api_token_revoked_at is None


class User(UserMixin, Base):
    """A person who logs in. Agency users belong to one agency and see only its requests."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    #: The generation of this user's session cookies: sessions are client-side, so a cookie
    #: names the generation it was issued in and is refused once this moves on
    #: (:func:`user_for_session_id`).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: A password someone else set (a temporary one, the CLI's, the demo's) is changed by its
    #: owner at the next sign-in before anything else is reachable.
    password_must_change: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    training_records: Mapped[list[TrainingRecord]] = relationship(
        back_populates="user",
        foreign_keys="TrainingRecord.user_id",
        order_by="TrainingRecord.expires_on.desc()",
        lazy="selectin",
    )
    agency: Mapped[Agency | None] = relationship()
    authorisations: Mapped[list[AccessAuthorisation]] = relationship(
        back_populates="user",
        foreign_keys="AccessAuthorisation.user_id",
        order_by="AccessAuthorisation.id.desc()",
    )

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses inactive accounts."""
        return self.is_active_account

    def get_id(self) -> str:
        """What the session cookie stores: the id and the session generation it belongs to."""
        return f"{self.id}:{self.session_version}"

    @property
    def roles(self) -> set[Role]:
        """The roles this user holds."""
        return {Role(row.role) for row in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        """Whether the user holds any of `roles`."""
        return bool(self.roles.intersection(roles))

    def current_training(self, on: date) -> TrainingRecord | None:
        """The training record in force on `on`, if any (425.4(d))."""
        for record in self.training_records:
            if record.completed_on <= on <= record.expires_on:
                return record
        return None

    def is_locked(self, now: datetime) -> bool:
        """Locked after repeated failed sign-ins, until `locked_until`."""
        return self.locked_until is not None and self.locked_until > now


class UserRole(Base):
    """One role held by one user."""

    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(f"role IN ({ROLE_VALUES})", name="known_role"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class TrainingRecord(Base):
    """Department-approved ALPR training: no one reaches ALPR data without a current one."""

    __tablename__ = "training_records"
    __table_args__ = (
        CheckConstraint("expires_on >= completed_on", name="expires_after_completed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course: Mapped[str] = mapped_column(String(200))
    completed_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="training_records", foreign_keys=[user_id])


class AccessChange(StrEnum):
    """What a written authorisation authorised."""

    ROLES = "roles"
    TRAINING = "training"


class AccessAuthorisation(Base):
    """The written authorisation behind one change of roles or one training record.

    425.3 puts ALPR data access under the Deputy Chief or designee, and § 13.824 subd. 7 asks
    for written procedures on who may reach the data: each grant, removal and training record
    names who authorised it, when, and the document or its reference. `recorded_by_id` is the
    person who entered it (empty for the server's shell).
    """

    __tablename__ = "access_authorisations"
    __table_args__ = (
        CheckConstraint(f"change IN ({sql_values(AccessChange)})", name="known_change"),
        CheckConstraint(
            "change <> 'training' OR training_record_id IS NOT NULL", name="training_names_record"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    change: Mapped[str] = mapped_column(String(16))
    #: Role values, space-separated.
    granted: Mapped[str] = mapped_column(String(300), default="")
    removed: Mapped[str] = mapped_column(String(300), default="")
    training_record_id: Mapped[int | None] = mapped_column(ForeignKey("training_records.id"))
    authorised_by: Mapped[str] = mapped_column(String(200))
    authorised_on: Mapped[date] = mapped_column(Date)
    document: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="authorisations", foreign_keys=[user_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    training_record: Mapped[TrainingRecord | None] = relationship()

    @property
    def granted_roles(self) -> list[Role]:
        """The roles this authorisation granted."""
        return [Role(value) for value in self.granted.split()]

    @property
    def removed_roles(self) -> list[Role]:
        """The roles this authorisation removed."""
        return [Role(value) for value in self.removed.split()]


def user_for_session_id(session: Session, session_id: str) -> User | None:
    """The user a session cookie names, only while its generation is still the current one.

    A cookie from before a logout, password change, deactivation or role change (or from
    before generations existed, a bare id) is refused, even though its signature is valid.
    """
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    # One round trip on every request: the roles and training that each page checks, joined.
    user = (
        session.scalars(
            select(User)
            .where(User.id == int(user_id))
            .options(joinedload(User.role_rows), joinedload(User.training_records))
        )
        .unique()
        .one_or_none()
    )
    if user is None or user.session_version != int(version):
        return None
    return user


def user_by_email(session: Session, email: str) -> User | None:
    """Emails are matched case-insensitively."""
    return session.scalars(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).first()
