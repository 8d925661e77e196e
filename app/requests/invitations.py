"""Agency users come by invitation: an admin or the Deputy Chief names them and their agency.

The account is made at once with the `agency` role and a password nobody knows; the invitation
link (shown once to the inviter, and mailed to the person) lets its owner choose their own
password. The link is a 256-bit token stored only as its SHA-256, works once, and expires after
:data:`INVITATION_DAYS` days. Both the invitation and its acceptance are audited.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.accounts import create_user, end_sessions, hash_password
from app.auth.errors import AccountError
from app.auth.models import Agency, Role, User, user_by_email
from app.core.tokens import token_digest
from app.requests.models import NAME_MAX, AgencyInvitation
from app.requests.permissions import REQUEST_PERMISSIONS, RequestAction
from app.requests.services import RequestError, clean_text

INVITATION_DAYS = 7
NOT_VALID = (
    "This invitation link is not valid: it was used already, it has expired, or it was "
    "mistyped. Ask the department for a new invitation."
)


def invite_agency_user(
    session: Session,
    actor: User | str | None,
    agency: Agency,
    *,
    name: str,
    email: str,
    now: datetime,
) -> tuple[User, str]:
    """Make the agency's user and their invitation; returns the user and the link's token.

    Raises RequestError at `name` or `email` (blank, invalid, already an account's).
    """
    if isinstance(actor, User) and not REQUEST_PERMISSIONS.allows(
        actor, RequestAction.MANAGE_AGENCIES
    ):
        raise RequestError("Only an ALPR administrator or the Deputy Chief invite agency users.")
    person = clean_text(name, "name", "The person's name", NAME_MAX)
    address = clean_text(email, "email", "The email address", 254) or ""
    try:
        address = validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise RequestError(f"Enter a valid email address ({exc}).", "email") from None
    if user_by_email(session, address) is not None:
        raise RequestError(f"An account with email {address} already exists.", "email")
    try:
        user = create_user(
            session,
            actor,
            email=address,
            name=person or address,
            password=secrets.token_urlsafe(32),
            roles=[Role.AGENCY],
            agency=agency,
            password_must_change=True,
        )
    except AccountError as exc:
        raise RequestError(str(exc), exc.field) from None
    token = secrets.token_urlsafe(32)
    invitation = AgencyInvitation(
        user_id=user.id,
        token_hash=token_digest(token),
        invited_by_id=actor.id if isinstance(actor, User) else None,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    session.add(invitation)
    session.flush()
    record(
        session,
        actor,
        AuditAction.AGENCY_USER_INVITED,
        user,
        {
            "email": address,
            "agency_id": agency.id,
            "invitation_id": invitation.id,
            "expires_at": invitation.expires_at.isoformat(),
        },
    )
    return user, token


def invitation_for(session: Session, token: str, now: datetime) -> AgencyInvitation | None:
    """The unused, unexpired invitation this link names, if any."""
    if not token or len(token) > 100:
        return None
    invitation = session.scalars(
        select(AgencyInvitation).where(AgencyInvitation.token_hash == token_digest(token))
    ).first()
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= now:
        return None
    if not invitation.user.is_active_account:
        return None
    return invitation


def accept_invitation(
    session: Session, token: str, *, password: str, password_again: str, now: datetime
) -> User:
    """The invited person chooses their password; the link stops working. Audited.

    Raises RequestError: without a field for a link that is not valid (used, expired,
    unknown, or its account deactivated), at `password` or `password_again` otherwise.
    """
    invitation = invitation_for(session, token, now)
    if invitation is None:
        raise RequestError(NOT_VALID)
    if password != password_again:
        raise RequestError("The two passwords differ.", "password_again")
    try:
        password_hash = hash_password(password or "")
    except AccountError as exc:
        raise RequestError(str(exc), "password") from None
    user = invitation.user
    user.password_hash = password_hash
    user.password_must_change = False
    end_sessions(user)
    invitation.accepted_at = now
    session.flush()
    record(
        session,
        user,
        AuditAction.AGENCY_INVITATION_ACCEPTED,
        user,
        {"invitation_id": invitation.id, "agency_id": user.agency_id},
    )
    return user
