"""Who may do what with the case registry (425.3, 425.6(b))."""

from __future__ import annotations

from enum import StrEnum

from app.auth.access import ALPR_DATA_ROLES
from app.auth.models import Role
from app.auth.permissions import Permissions


class InvestigationAction(StrEnum):
    """The registry's actions."""

    VIEW = "view"
    OPEN = "open"
    CLOSE = "close"
    REOPEN = "reopen"
    DISPOSE = "dispose"


#: The ALPR data roles open and close cases; records staff look too, because they enter
#: exculpatory and ACP requests and holds against these case numbers. Reopening (which lets a
#: case hold data again) is for the Deputy Chief, the designee and the ALPR administrator (425.3).
#: What happens to a closed case's held data (released to the 60-day rule, or kept under the
#: records-retention schedule) is the Deputy Chief's or designee's alone: 425.3 and 425.5 make
#: them responsible for retention.
INVESTIGATION_PERMISSIONS = Permissions(
    {
        InvestigationAction.VIEW: ALPR_DATA_ROLES | {Role.RECORDS},
        InvestigationAction.OPEN: ALPR_DATA_ROLES,
        InvestigationAction.CLOSE: ALPR_DATA_ROLES,
        InvestigationAction.REOPEN: frozenset({Role.DEPUTY_CHIEF, Role.DESIGNEE, Role.ADMIN}),
        InvestigationAction.DISPOSE: frozenset({Role.DEPUTY_CHIEF, Role.DESIGNEE}),
    }
)
