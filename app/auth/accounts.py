"""Accounts: creating them, their roles, activation, passwords and sessions; each audited."""

from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.agencies import agency_by_name, create_agency
from app.auth.authorisations import (
    WrittenAuthorisation,
    audit_details,
    check_may_grant,
    checked_authorisation,
    record_authorisation,
)
from app.auth.errors import AccountError
from app.auth.models import (
    ADMIN_ROLES,
    WRITTEN_GRANT_ROLES,
    Agency,
    Role,
    User,
    UserRole,
    user_by_email,
)

PASSWORD_HASHER = PasswordHasher()

MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    """Argon2id, after the length rule."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters long.", field="password"
        )
    return PASSWORD_HASHER.hash(password)


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
    if parsed == {Role.CONFIDENTIAL_DATA}:
        raise AccountError(
            "The confidential-data authorisation goes with a department role, not alone.",
            field="roles",
        )
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
    password_must_change: bool = True,
    authorisation: WrittenAuthorisation | None = None,
) -> User:
    """Create an account with its roles; agency users, and only they, belong to an agency.

    A department account may be created without a role, to be given its roles later; one
    created with department roles needs a grantor and the written `authorisation` as for
    :func:`set_roles`. Someone other than the owner chose the password, so the owner replaces
    it at the first sign-in; only the server's shell in development
    (`password_must_change=False`) skips that.
    """
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError("Enter a valid email address.", field="email")
    if user_by_email(session, email) is not None:
        raise AccountError(f"A user with email {email} already exists.", field="email")
    role_set = _parse_roles(roles)
    _check_agency_for_roles(role_set, has_agency=agency is not None)
    check_may_grant(actor, None, role_set)
    written = checked_authorisation(authorisation) if role_set & WRITTEN_GRANT_ROLES else None
    user = User(
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password),
        password_must_change=password_must_change,
        agency=agency,
        role_rows=[UserRole(role=r.value) for r in sorted(role_set)],
    )
    session.add(user)
    session.flush()
    details: dict[str, object] = {
        "email": email,
        "roles": sorted(r.value for r in role_set),
        "agency_id": user.agency_id,
        "password_must_change": password_must_change,
    }
    if written is not None:
        row = record_authorisation(session, actor, user, written, granted=role_set)
        details["authorisation"] = audit_details(row)
    record(session, actor, AuditAction.USER_CREATED, user, details)
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
    password_must_change: bool = True,
    authorisation: WrittenAuthorisation | None = None,
) -> User:
    """The create-user page: an agency named by its name, found or registered with the user.

    The roles are checked before any agency is looked up or registered, so a refused account
    leaves no agency (nor its audit entry) behind; a blank name is no name.
    """
    roles = list(roles)
    agency_name = (agency_name or "").strip()
    role_set = _parse_roles(roles)
    _check_agency_for_roles(role_set, has_agency=bool(agency_name))
    check_may_grant(actor, None, role_set)
    agency = None
    if agency_name:
        agency = agency_by_name(session, agency_name) or create_agency(
            session, actor, name=agency_name
        )
    return create_user(
        session,
        actor,
        email=email,
        name=name,
        password=password,
        roles=roles,
        agency=agency,
        password_must_change=password_must_change,
        authorisation=authorisation,
    )


def end_sessions(user: User) -> None:
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
    session: Session,
    actor: User | str | None,
    user: User,
    roles: Iterable[str | Role],
    authorisation: WrittenAuthorisation | None = None,
) -> bool:
    """Replace a user's roles; the before and after are recorded, the user's sessions end.

    Department roles are granted and removed only by the Deputy Chief or designee (425.3),
    never to their own account, each change on a written `authorisation` kept with the account
    and in the audit entry. Returns False, with nothing changed and nothing audited, when the
    user already holds exactly these roles (a form sent twice), so the page does not report a
    change.
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
    check_may_grant(actor, user, old ^ new)
    if isinstance(actor, User) and actor.id == user.id and Role.ADMIN in old - new:
        raise AccountError("You cannot remove your own administrator role.", field="roles")
    written = checked_authorisation(authorisation) if (old ^ new) & WRITTEN_GRANT_ROLES else None
    active = user.is_active_account
    if _holds_admin(active, old) and not _holds_admin(active, new):
        _keep_an_administrator(session, user)
    user.role_rows = [UserRole(role=r.value) for r in sorted(new)]
    end_sessions(user)
    session.flush()
    details: dict[str, object] = {
        "before": sorted(r.value for r in old),
        "after": sorted(r.value for r in new),
        "sessions_ended": True,
    }
    if written is not None:
        row = record_authorisation(
            session, actor, user, written, granted=new - old, removed=old - new
        )
        details["authorisation"] = audit_details(row)
    record(session, actor, AuditAction.USER_ROLES_CHANGED, user, details)
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
        end_sessions(user)
        details["sessions_ended"] = True
    record(
        session,
        actor,
        AuditAction.USER_REACTIVATED if active else AuditAction.USER_DEACTIVATED,
        user,
        details,
    )
    return True


def sign_out(session: Session, user: User) -> None:
    """Sign the user out everywhere: the logout is audited and every cookie of theirs refused.

    Sessions are client-side, so forgetting this browser's cookie alone would leave a copy
    of it working.
    """
    end_sessions(user)
    record(session, user, AuditAction.LOGOUT, user, {"sessions_ended": True})
