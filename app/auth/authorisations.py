"""Written authorisations (425.3, § 13.824 subd. 7): who may grant access, and on what paper.

Only the Deputy Chief or designee grants or removes a role that reaches ALPR data or records
training, and each such change names the written authorisation behind it: the person who
authorised it, the date, and the document or its reference. The row is kept with the account
and its fields go into the change's audit entry. The server's shell (the CLI, the demo seed)
is trusted as to who acts, but it too must name the authorisation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.auth.errors import AccountError
from app.auth.models import (
    DEPUTY_CHIEF_GRANTS,
    WRITTEN_GRANT_ROLES,
    AccessAuthorisation,
    AccessChange,
    Role,
    TrainingRecord,
    User,
)
from app.auth.permissions import ACCOUNT_PERMISSIONS, AccountAction
from app.core.dates import future_problem

AUTHORISED_BY_MAX = 200
DOCUMENT_MAX = 200
#: Earlier dates are typing slips (0202 for 2026), not authorisations of this system.
EARLIEST_AUTHORISATION = date(2000, 1, 1)


@dataclass(frozen=True)
class WrittenAuthorisation:
    """What the written authorisation of a grant says: who, when, which document."""

    authorised_by: str
    authorised_on: date | None
    document: str


def _text(value: str | None, field: str, missing: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise AccountError(missing, field=field)
    if len(text) > limit:
        raise AccountError(f"At most {limit} characters ({len(text)} given).", field=field)
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        raise AccountError("Control characters are not allowed here.", field=field)
    return text


def checked_authorisation(authorisation: WrittenAuthorisation | None) -> WrittenAuthorisation:
    """The authorisation with its text trimmed, or a refusal at the first field it fails."""
    given = authorisation or WrittenAuthorisation("", None, "")
    authorised_by = _text(
        given.authorised_by,
        "authorised_by",
        "Name the person who authorised this in writing.",
        AUTHORISED_BY_MAX,
    )
    authorised_on = given.authorised_on
    if authorised_on is None:
        raise AccountError("Give the date of the written authorisation.", field="authorised_on")
    if problem := future_problem(authorised_on, "The authorisation date"):
        raise AccountError(problem, field="authorised_on")
    if authorised_on < EARLIEST_AUTHORISATION:
        raise AccountError(
            f"The authorisation date ({authorised_on.isoformat()}) is before "
            f"{EARLIEST_AUTHORISATION.isoformat()}: check the year.",
            field="authorised_on",
        )
    document = _text(
        given.document,
        "document",
        "Name the written authorisation: the document or its reference.",
        DOCUMENT_MAX,
    )
    return WrittenAuthorisation(authorised_by, authorised_on, document)


def grantable_roles(actor: Any) -> frozenset[Role]:
    """The roles `actor` may grant or remove; the server's shell may grant any."""
    if not isinstance(actor, User):
        return frozenset(Role)
    roles = (
        {Role.AGENCY}
        if ACCOUNT_PERMISSIONS.allows(actor, AccountAction.ADMINISTER_ACCOUNTS)
        else set()
    )
    if ACCOUNT_PERMISSIONS.allows(actor, AccountAction.GRANT_ACCESS):
        roles |= WRITTEN_GRANT_ROLES - DEPUTY_CHIEF_GRANTS
    if ACCOUNT_PERMISSIONS.allows(actor, AccountAction.GRANT_DEPUTY_CHIEF_ROLES):
        roles |= DEPUTY_CHIEF_GRANTS
    return frozenset(roles)


def check_may_grant(actor: Any, user: User | None, changed: set[Role]) -> None:
    """Refuse a change of `changed` roles on `user` (None: a new account) that `actor` may not make.

    Nobody adds a role to their own account; only a Deputy Chief changes the Deputy Chief's and
    designee roles (425.3), and only the Deputy Chief or designee any other department role.
    """
    if not isinstance(actor, User):
        return
    if user is not None and actor.id == user.id and changed - user.roles:
        raise AccountError("You cannot add roles to your own account.", field="roles")
    if changed & DEPUTY_CHIEF_GRANTS and not ACCOUNT_PERMISSIONS.allows(
        actor, AccountAction.GRANT_DEPUTY_CHIEF_ROLES
    ):
        raise AccountError(
            "Only a Deputy Chief may grant or remove the Deputy Chief and designee roles.",
            field="roles",
        )
    if changed & WRITTEN_GRANT_ROLES and not ACCOUNT_PERMISSIONS.allows(
        actor, AccountAction.GRANT_ACCESS
    ):
        raise AccountError(
            "Only the Deputy Chief or designee grants or removes department roles, which reach "
            "ALPR data (policy 425.3).",
            field="roles",
        )


def check_may_record_training(actor: Any, user: User) -> None:
    """Only the Deputy Chief or designee records training, and never their own (425.3)."""
    if not isinstance(actor, User):
        return
    if not ACCOUNT_PERMISSIONS.allows(actor, AccountAction.GRANT_ACCESS):
        raise AccountError(
            "Only the Deputy Chief or designee records ALPR training (policy 425.3)."
        )
    if actor.id == user.id:
        raise AccountError(
            "You cannot record your own training: another Deputy Chief or designee records it."
        )


def _values(roles: Iterable[Role]) -> str:
    return " ".join(sorted(role.value for role in roles))


def record_authorisation(
    session: Session,
    actor: Any,
    user: User,
    authorisation: WrittenAuthorisation,
    *,
    granted: Iterable[Role] = (),
    removed: Iterable[Role] = (),
    training: TrainingRecord | None = None,
) -> AccessAuthorisation:
    """Keep a checked authorisation with the account; returns the row (flushed, with its id)."""
    row = AccessAuthorisation(
        user=user,
        change=(AccessChange.TRAINING if training else AccessChange.ROLES).value,
        granted=_values(granted),
        removed=_values(removed),
        training_record=training,
        authorised_by=authorisation.authorised_by,
        authorised_on=authorisation.authorised_on,
        document=authorisation.document,
        recorded_by_id=actor.id if isinstance(actor, User) else None,
    )
    session.add(row)
    session.flush()
    return row


def audit_details(row: AccessAuthorisation) -> dict[str, object]:
    """The authorisation as its change's audit entry carries it."""
    return {
        "id": row.id,
        "authorised_by": row.authorised_by,
        "authorised_on": row.authorised_on.isoformat(),
        "document": row.document,
    }
