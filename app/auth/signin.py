"""Signing in: the password check, failure counting and lockout, each attempt audited."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.accounts import PASSWORD_HASHER
from app.auth.models import (
    User,
    user_by_email,
)

#: Verified against when the account does not exist, so both paths cost the same time.
_DUMMY_HASH = PASSWORD_HASHER.hash("not-a-real-password")


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
        PASSWORD_HASHER.verify(_DUMMY_HASH, password)


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
        PASSWORD_HASHER.verify(user.password_hash, password)
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
    if PASSWORD_HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = PASSWORD_HASHER.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record(session, user, AuditAction.LOGIN, user, {"address": address})
    return LoginOutcome(user, "Signed in.")
