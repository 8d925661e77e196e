"""Outside agencies: registering them, and the API tokens with which they share reads."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.errors import AccountError
from app.auth.models import (
    Agency,
    User,
)
from app.core.tokens import new_token, token_digest
from app.db import utcnow


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
