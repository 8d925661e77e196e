"""Account actions: each one validates, changes state and appends its audit entry."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import (
    ADMIN_ROLES,
    DEPUTY_CHIEF_GRANTS,
    Agency,
    Role,
    TrainingRecord,
    User,
    UserRole,
    user_by_email,
)
from app.core.dates import future_problem
from app.core.refusal import Refusal
from app.core.tokens import new_token, token_digest
from app.db import utcnow

_hasher = PasswordHasher()
#: Verified against when the account does not exist, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 12

#: The longest a training record may stay valid after its completion. Policy 425.4(d) sets no
#: renewal period, so this bounds typing slips (9999-12-31, 2206 for 2026) that would let an
#: account reach ALPR data for life on one course; no realistic certification cycle is longer.
MAX_TRAINING_VALIDITY_YEARS = 5


class AccountError(Refusal):
    """A clear, user-facing reason an account action was refused.

    `field` names the form field the reason belongs to (None: the form as a whole), so a page
    can show it next to that field.
    """


def hash_password(password: str) -> str:
    """Argon2id, after the length rule."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters long.", field="password"
        )
    return _hasher.hash(password)


def _parse_roles(roles: Iterable[str | Role]) -> set[Role]:
    parsed: set[Role] = set()
    for value in roles:
        try:
            parsed.add(Role(value))
        except ValueError as exc:
            known = ", ".join(r.value for r in Role)
            raise AccountError(
                f"Unknown role {value!r}; known roles: {known}.", field="roles"
            ) from exc
    if not parsed:
        raise AccountError("A user needs at least one role.", field="roles")
    return parsed


def create_user(
    session: Session,
    actor: User | str | None,
    *,
    email: str,
    name: str,
    password: str,
    roles: Iterable[str | Role],
    agency: Agency | None = None,
) -> User:
    """Create an account with its roles; agency users, and only they, belong to an agency."""
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError("Enter a valid email address.", field="email")
    if user_by_email(session, email) is not None:
        raise AccountError(f"A user with email {email} already exists.", field="email")
    role_set = _parse_roles(roles)
    _check_agency_for_roles(role_set, has_agency=agency is not None)
    _check_deputy_chief_grants(actor, role_set)
    user = User(
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password),
        agency=agency,
        role_rows=[UserRole(role=r.value) for r in sorted(role_set)],
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor,
        AuditAction.USER_CREATED,
        user,
        {"email": email, "roles": sorted(r.value for r in role_set), "agency_id": user.agency_id},
    )
    return user


def _check_agency_for_roles(role_set: set[Role], *, has_agency: bool) -> None:
    """An agency account belongs to one agency and holds only that role; staff belong to none.

    A department account tied to an outside agency would be counted as that agency's user.
    """
    if Role.AGENCY in role_set and len(role_set) > 1:
        raise AccountError("An agency account cannot also hold department roles.", field="roles")
    if Role.AGENCY in role_set and not has_agency:
        raise AccountError("An agency user must belong to an agency.", field="agency_name")
    if Role.AGENCY not in role_set and has_agency:
        raise AccountError(
            "Only agency users belong to an agency; leave the agency empty for department roles.",
            field="agency_name",
        )


def create_account(
    session: Session,
    actor: User | str | None,
    *,
    email: str,
    name: str,
    password: str,
    roles: Iterable[str | Role],
    agency_name: str | None = None,
) -> User:
    """The create-user page: an agency named by its name, found or registered with the user.

    The roles are checked before any agency is looked up or registered, so a refused account
    leaves no agency (nor its audit entry) behind; a blank name is no name.
    """
    roles = list(roles)
    agency_name = (agency_name or "").strip()
    _check_agency_for_roles(_parse_roles(roles), has_agency=bool(agency_name))
    agency = None
    if agency_name:
        agency = agency_by_name(session, agency_name) or create_agency(
            session, actor, name=agency_name
        )
    return create_user(
        session, actor, email=email, name=name, password=password, roles=roles, agency=agency
    )


def _check_deputy_chief_grants(actor: User | str | None, changed: set[Role]) -> None:
    """Only a Deputy Chief grants or removes Deputy Chief and designee (425.3).

    A user actor is checked; the CLI and the demo seed (a label) are trusted, as they are run
    from the server's shell.
    """
    if (
        isinstance(actor, User)
        and changed & DEPUTY_CHIEF_GRANTS
        and not actor.has_role(Role.DEPUTY_CHIEF)
    ):
        raise AccountError(
            "Only a Deputy Chief may grant or remove the Deputy Chief and designee roles."
        )


def _end_sessions(user: User) -> None:
    """Move the user to a new session generation: every cookie issued so far stops working.

    An SQL increment, so two concurrent changes cannot both issue the same generation.
    """
    user.session_version = User.session_version + 1


def _lock_accounts(session: Session, user: User) -> None:
    """Lock and reload `user` and every account administrator's row until the commit.

    Two administrators changing each other at once then run one after the other, and the
    second sees the first's result (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
    writers). The rows are taken in id order, and before the audit chain's lock, as every
    service takes its row locks first.
    """
    holders = select(UserRole.user_id).where(UserRole.role.in_([r.value for r in ADMIN_ROLES]))
    session.scalars(
        select(User)
        .where(or_(User.id == user.id, User.id.in_(holders)))
        .order_by(User.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def _holds_admin(active: bool, roles: set[Role]) -> bool:
    return active and bool(roles & ADMIN_ROLES)


def _keep_an_administrator(session: Session, user: User) -> None:
    """Refuse a change that leaves no active account holding an administrator's role.

    Called under :func:`_lock_accounts`, for a change that takes `user` out of that set.
    """
    others = session.scalar(
        select(func.count(func.distinct(User.id)))
        .select_from(User)
        .join(UserRole)
        .where(
            User.id != user.id,
            User.is_active_account.is_(True),
            UserRole.role.in_([r.value for r in ADMIN_ROLES]),
        )
    )
    if not others:
        labels = " or ".join(sorted(r.label for r in ADMIN_ROLES))
        raise AccountError(
            f"{user.email} is the last active {labels}: "
            "give another account that role first, or nobody could administer accounts."
        )


def set_roles(
    session: Session, actor: User | str | None, user: User, roles: Iterable[str | Role]
) -> bool:
    """Replace a user's roles; the before and after are recorded, the user's sessions end.

    Returns False, with nothing changed and nothing audited, when the user already holds
    exactly these roles (a form sent twice), so the page does not report a change.
    """
    new = _parse_roles(roles)
    _lock_accounts(session, user)
    old = user.roles
    if new == old:
        return False
    if Role.AGENCY in new and (len(new) > 1 or user.agency_id is None):
        raise AccountError(
            "An agency account belongs to one agency and holds only that role.", field="roles"
        )
    if isinstance(actor, User) and actor.id == user.id:
        if new - old:
            raise AccountError("You cannot add roles to your own account.", field="roles")
        if Role.ADMIN in old - new:
            raise AccountError("You cannot remove your own administrator role.", field="roles")
    _check_deputy_chief_grants(actor, old ^ new)
    active = user.is_active_account
    if _holds_admin(active, old) and not _holds_admin(active, new):
        _keep_an_administrator(session, user)
    user.role_rows = [UserRole(role=r.value) for r in sorted(new)]
    _end_sessions(user)
    session.flush()
    record(
        session,
        actor,
        AuditAction.USER_ROLES_CHANGED,
        user,
        {
            "before": sorted(r.value for r in old),
            "after": sorted(r.value for r in new),
            "sessions_ended": True,
        },
    )
    return True


def set_active(session: Session, actor: User | str | None, user: User, active: bool) -> bool:
    """Deactivate (or reactivate) an account; accounts are never deleted, their trail stays.

    Deactivating ends the account's sessions at once, not at their next sign-in. Returns
    False, with nothing changed and nothing audited, when the account already is so (a
    button pressed twice, or two administrators at once: the second sees the first).
    """
    _lock_accounts(session, user)
    if user.is_active_account == active:
        return False
    if not active and isinstance(actor, User) and actor.id == user.id:
        raise AccountError("You cannot deactivate your own account.")
    if not active and _holds_admin(True, user.roles):
        _keep_an_administrator(session, user)
    user.is_active_account = active
    details: dict[str, object] = {"email": user.email}
    if active:
        user.failed_logins = 0
        user.locked_until = None
    else:
        _end_sessions(user)
        details["sessions_ended"] = True
    record(
        session,
        actor,
        AuditAction.USER_REACTIVATED if active else AuditAction.USER_DEACTIVATED,
        user,
        details,
    )
    return True


def set_password(session: Session, actor: User | str | None, user: User, password: str) -> None:
    """Set a new password (the hash only is kept) and end the user's sessions.

    Audited without the password.
    """
    user.password_hash = hash_password(password)
    _end_sessions(user)
    record(
        session,
        actor,
        AuditAction.USER_PASSWORD_SET,
        user,
        {"email": user.email, "sessions_ended": True},
    )


def sign_out(session: Session, user: User) -> None:
    """Sign the user out everywhere: the logout is audited and every cookie of theirs refused.

    Sessions are client-side, so forgetting this browser's cookie alone would leave a copy
    of it working.
    """
    _end_sessions(user)
    record(session, user, AuditAction.LOGOUT, user, {"sessions_ended": True})


def _years_after(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def record_training(
    session: Session,
    actor: User | str | None,
    user: User,
    *,
    course: str,
    completed_on: date,
    expires_on: date,
    notes: str | None = None,
) -> TrainingRecord:
    """Record department-approved training (425.4(d)); the window must make sense.

    Training is a fact, so it is not completed after today (the department's calendar day);
    it may stay valid for at most :data:`MAX_TRAINING_VALIDITY_YEARS` after it.
    """
    course = course.strip()
    if not course:
        raise AccountError("Name the training course.", field="course")
    if problem := future_problem(completed_on, "The completion date"):
        raise AccountError(problem, field="completed_on")
    if expires_on < completed_on:
        raise AccountError(
            "Expires on: training cannot expire before it was completed.", field="expires_on"
        )
    latest = _years_after(completed_on, MAX_TRAINING_VALIDITY_YEARS)
    if expires_on > latest:
        raise AccountError(
            f"Expires on: training is valid for at most {MAX_TRAINING_VALIDITY_YEARS} years "
            f"after it was completed (so by {latest.isoformat()}).",
            field="expires_on",
        )
    training = TrainingRecord(
        user=user,
        course=course,
        completed_on=completed_on,
        expires_on=expires_on,
        notes=notes,
        recorded_by_id=actor.id if isinstance(actor, User) else None,
    )
    session.add(training)
    session.flush()
    record(
        session,
        actor,
        AuditAction.TRAINING_RECORDED,
        user,
        {
            "training_id": training.id,
            "course": course,
            "completed_on": completed_on.isoformat(),
            "expires_on": expires_on.isoformat(),
        },
    )
    return training


def create_agency(
    session: Session, actor: User | str | None, *, name: str, ori: str | None = None
) -> Agency:
    """Register an outside agency (its users, requests and shared data refer to it)."""
    name = name.strip()
    if not name:
        raise AccountError("Name the agency.")
    agency = Agency(name=name, ori=(ori or "").strip().upper() or None)
    session.add(agency)
    session.flush()
    record(session, actor, AuditAction.AGENCY_CREATED, agency, {"name": name, "ori": agency.ori})
    return agency


def agency_by_name(session: Session, name: str) -> Agency | None:
    """Agencies are named exactly (names are unique)."""
    return session.scalars(select(Agency).where(Agency.name == name.strip())).first()


def get_agency_by_name(session: Session, name: str) -> Agency:
    """Like :func:`agency_by_name`, raising a clear error for an unknown name."""
    agency = agency_by_name(session, name)
    if agency is None:
        raise AccountError(f"No agency named {name.strip()!r}.")
    return agency


def agency_for_token(session: Session, token: str) -> Agency | None:
    """The agency whose API token this is, revoked or not (the caller checks)."""
    return session.scalars(
        select(Agency).where(Agency.api_token_hash == token_digest(token))
    ).first()


def agency_actor(agency: Agency) -> str:
    """The audit label of an agency's system pushing shared reads (it is not a user)."""
    return f"agency:{agency.name}"[:200]


def issue_agency_token(session: Session, actor: User | str | None, agency: Agency) -> str:
    """Issue the agency's API token for sharing reads, returned here once, stored as a digest.

    A token already in force is replaced (a rotation: the old one is unknown from now on); a
    revoked one is replaced by the new one. Audited with the token's hint, never the token.
    """
    rotating = agency.api_token_active
    old_hint = agency.api_token_hint if agency.api_token_hash else None
    token, digest, hint = new_token()
    agency.api_token_hash = digest
    agency.api_token_hint = hint
    agency.api_token_issued_at = utcnow()
    agency.api_token_revoked_at = None
    session.flush()
    record(
        session,
        actor,
        AuditAction.AGENCY_TOKEN_ROTATED if rotating else AuditAction.AGENCY_TOKEN_ISSUED,
        agency,
        {"name": agency.name, "old_token_hint": old_hint, "token_hint": hint},
    )
    return token


def revoke_agency_token(
    session: Session, actor: User | str | None, agency: Agency, reason: str = ""
) -> Agency:
    """Refuse the agency's API token from now on (403, so its system can tell why)."""
    if agency.api_token_hash is None:
        raise AccountError(f"Agency {agency.name} has no API token.")
    if agency.api_token_revoked_at is not None:
        raise AccountError(f"The API token of agency {agency.name} is already revoked.")
    agency.api_token_revoked_at = utcnow()
    session.flush()
    record(
        session,
        actor,
        AuditAction.AGENCY_TOKEN_REVOKED,
        agency,
        {"name": agency.name, "token_hint": agency.api_token_hint, "reason": reason.strip()},
    )
    return agency


@dataclass(frozen=True)
class LoginOutcome:
    """The result of a login attempt: the user when it succeeded, else a safe message."""

    user: User | None
    message: str


def failure_message(lockout_minutes: int) -> str:
    """The one answer to every refused sign-in, so it tells no one whether an account exists."""
    return (
        "Invalid email or password. After repeated failures an account is locked "
        f"for {lockout_minutes} minutes."
    )


def _verify_dummy(password: str) -> None:
    """Spend what a real check costs, where there is no real hash to check."""
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)


def _count_failure(
    session: Session, user: User, address: str, now: datetime, threshold: int, minutes: int
) -> dict[str, object]:
    """Add one failure in SQL (concurrent failures all count) and lock at the threshold.

    The lock follows the count the UPDATE returned, not one read before it.
    """
    failed = session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
        .execution_options(synchronize_session="fetch")
    ).scalar_one()
    details: dict[str, object] = {
        "reason": "wrong password",
        "address": address,
        "failed_logins": failed,
    }
    if failed >= threshold:
        user.locked_until = now + timedelta(minutes=minutes)
        details["locked_until"] = user.locked_until
    return details


def authenticate(
    session: Session,
    *,
    email: str,
    password: str,
    address: str,
    now: datetime,
    lockout_threshold: int,
    lockout_minutes: int,
) -> LoginOutcome:
    """Check a password, counting failures and locking the account after too many.

    Every attempt, good or bad, is an audit entry (425.6(a): access documented by name,
    date and time). Unknown, wrong-password and locked attempts get the same answer and cost
    the same Argon2 check, so neither the message nor the timing tells that an account exists.
    """
    refused = LoginOutcome(None, failure_message(lockout_minutes))
    user = user_by_email(session, email)
    if user is None:
        _verify_dummy(password)
        record(
            session,
            f"anonymous@{address}",
            AuditAction.LOGIN_FAILED,
            None,
            {"email": email.strip().lower()[:254], "reason": "unknown account", "address": address},
        )
        return refused
    if user.is_locked(now):
        _verify_dummy(password)
        record(
            session,
            user,
            AuditAction.LOGIN_LOCKED,
            user,
            {"address": address, "locked_until": user.locked_until},
        )
        return refused
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        details = _count_failure(session, user, address, now, lockout_threshold, lockout_minutes)
        record(session, user, AuditAction.LOGIN_FAILED, user, details)
        return refused
    if not user.is_active_account:
        record(
            session,
            user,
            AuditAction.LOGIN_FAILED,
            user,
            {"reason": "deactivated", "address": address},
        )
        return LoginOutcome(None, "This account is deactivated. Contact the ALPR administrator.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record(session, user, AuditAction.LOGIN, user, {"address": address})
    return LoginOutcome(user, "Signed in.")
