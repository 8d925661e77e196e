"""Who may do what, the one shape every domain's permissions module takes.

Each domain names its actions in a ``StrEnum`` and the roles allowed each in one
:class:`Permissions` table. Route decorators read it (``@require(PERMS.roles(Action.X))``),
machine guards read it (``PERMS.allows(actor, Action.X)``) and templates read it, so a button
is shown exactly to the people whose press of it would be accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Generic, TypeVar

from app.auth.models import ADMIN_ROLES, DEPUTY_CHIEF_GRANTS, Role, User

A = TypeVar("A", bound=StrEnum)


class Permissions(Generic[A]):
    """A table of action → roles; system actors (CLI, jobs) are trusted by the service itself."""

    def __init__(self, table: Mapping[A, frozenset[Role]]) -> None:
        self._table = dict(table)

    def roles(self, action: A) -> frozenset[Role]:
        """The roles that may take `action`."""
        return self._table[action]

    def allows(self, actor: Any, action: A) -> bool:
        """Whether `actor` is a person holding one of `action`'s roles."""
        return isinstance(actor, User) and actor.has_role(*self._table[action])


class AccountAction(StrEnum):
    """The account pages' actions."""

    ADMINISTER_ACCOUNTS = "administer_accounts"
    SET_TEMPORARY_PASSWORD = "set_temporary_password"  # noqa: S105 (an action name)


#: Accounts are administered by the ALPR administrator and the Deputy Chief; a forgotten
#: password may also be reset by the designee, whom 425.3 gives control of access.
ACCOUNT_PERMISSIONS = Permissions(
    {
        AccountAction.ADMINISTER_ACCOUNTS: ADMIN_ROLES,
        AccountAction.SET_TEMPORARY_PASSWORD: ADMIN_ROLES | DEPUTY_CHIEF_GRANTS,
    }
)
