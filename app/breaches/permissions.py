"""Who may do what with breach incidents (policy 425.6(d), Minn. Stat. § 13.055)."""

from __future__ import annotations

from enum import StrEnum

from app.auth.access import STAFF_ROLES
from app.auth.models import Role
from app.auth.permissions import Permissions


class BreachAction(StrEnum):
    """The breach incident actions."""

    REPORT = "report"
    VIEW = "view"
    INVESTIGATE = "investigate"
    NOTIFY = "notify"
    COMPLETE_REPORT = "complete_report"


#: Who handles a breach: the Deputy Chief or designee (425.3 puts ALPR administration with them).
BREACH_HANDLERS = frozenset({Role.DEPUTY_CHIEF, Role.DESIGNEE})

#: Any trained staff member who discovers a breach reports it; the Deputy Chief or designee take
#: every later step; auditors and ALPR administrators look (the biennial audit reads them too).
BREACH_PERMISSIONS = Permissions(
    {
        BreachAction.REPORT: STAFF_ROLES,
        BreachAction.VIEW: BREACH_HANDLERS | {Role.AUDITOR, Role.ADMIN},
        BreachAction.INVESTIGATE: BREACH_HANDLERS,
        BreachAction.NOTIFY: BREACH_HANDLERS,
        BreachAction.COMPLETE_REPORT: BREACH_HANDLERS,
    }
)
