"""Passwords: a user changes their own; the Deputy Chief, designee or an admin sets a temporary one.

Every change ends the account's other sessions (its session generation moves on) and is
audited without the password, of course. A password someone else chose is never the owner's
for long: it is marked to be changed at the next sign-in (:attr:`User.password_must_change`),
and until then the access rule lets the owner reach only the change-password page.
"""

from __future__ import annotations

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.accounts import PASSWORD_HASHER, end_sessions, hash_password
from app.auth.errors import AccountError
from app.auth.models import User
from app.auth.permissions import ACCOUNT_PERMISSIONS, AccountAction


def _matches(user: User, password: str) -> bool:
    try:
        return PASSWORD_HASHER.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def change_own_password(session: Session, user: User, current: str, new: str) -> None:
    """The owner replaces their password: the current one is required, the new one differs.

    Raises AccountError at `current_password` or `new_password`. The caller signs the user in
    again after the commit: every other session of theirs has ended.
    """
    if not _matches(user, current or ""):
        raise AccountError("The current password is not right.", field="current_password")
    if new == current:
        raise AccountError(
            "The new password must differ from the current one.", field="new_password"
        )
    try:
        user.password_hash = hash_password(new or "")
    except AccountError as exc:
        raise AccountError(str(exc), field="new_password") from None
    user.password_must_change = False
    end_sessions(user)
    session.flush()
    record(session, user, AuditAction.USER_PASSWORD_CHANGED, user, {"sessions_ended": True})


def set_temporary_password(
    session: Session, actor: User | str, user: User, password: str, *, must_change: bool = True
) -> None:
    """Set `user`'s password for them (a forgotten one, a first one); audited, sessions ended.

    A person doing it needs the SET_TEMPORARY_PASSWORD permission and may not do it to their
    own account (they change theirs with the current one). `must_change` is False only for the
    server's shell in development; whoever chose it, the owner replaces it at the next sign-in.
    """
    if isinstance(actor, User):
        if not ACCOUNT_PERMISSIONS.allows(actor, AccountAction.SET_TEMPORARY_PASSWORD):
            raise AccountError(
                "Only the Deputy Chief, the designee or an ALPR administrator sets a password."
            )
        if actor.id == user.id:
            raise AccountError(
                "Change your own password with your current one (Account › Password)."
            )
    user.password_hash = hash_password(password or "")
    user.password_must_change = must_change
    end_sessions(user)
    session.flush()
    record(
        session,
        actor,
        AuditAction.USER_PASSWORD_SET,
        user,
        {"must_change": must_change, "sessions_ended": True},
    )
