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

from app.auth.models import ACCESS_GRANTORS, ADMIN_ROLES, Role, User

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
    """The account pages' actions, and the access an account's roles give."""

    VIEW_ACCOUNTS = "view_accounts"
    ADMINISTER_ACCOUNTS = "administer_accounts"
    SET_TEMPORARY_PASSWORD = "set_temporary_password"  # noqa: S105 (an action name)
    GRANT_ACCESS = "grant_access"
    GRANT_DEPUTY_CHIEF_ROLES = "grant_deputy_chief_roles"
    SEE_CONFIDENTIAL_DATA = "see_confidential_data"
    WATCH_TRAINING = "watch_training"


#: 425.3 puts ALPR data access under the Deputy Chief or designee: they alone grant and remove
#: the roles that reach it and record training (the Deputy Chief alone assigns Deputy Chiefs
#: and designees), and they see every account. The ALPR administrator and the Deputy Chief keep
#: accounts' technical state (creating accounts, deactivating them); a forgotten password may be
#: reset by any of the three. Confidential state or federal data (425.4(e)) is shown only to
#: accounts explicitly authorised for it, whatever their other roles.
ACCOUNT_PERMISSIONS = Permissions(
    {
        AccountAction.VIEW_ACCOUNTS: ADMIN_ROLES | ACCESS_GRANTORS,
        AccountAction.ADMINISTER_ACCOUNTS: ADMIN_ROLES,
        AccountAction.SET_TEMPORARY_PASSWORD: ADMIN_ROLES | ACCESS_GRANTORS,
        AccountAction.GRANT_ACCESS: ACCESS_GRANTORS,
        AccountAction.GRANT_DEPUTY_CHIEF_ROLES: frozenset({Role.DEPUTY_CHIEF}),
        AccountAction.SEE_CONFIDENTIAL_DATA: frozenset({Role.CONFIDENTIAL_DATA}),
        # Who records training sees, on the home page, whose is about to lapse.
        AccountAction.WATCH_TRAINING: ACCESS_GRANTORS,
    }
)
