"""Who may do what with BCA notices (policy 425.3, 425.4.1(d))."""

from __future__ import annotations

from enum import StrEnum

from app.auth.access import EQUIPMENT_ROLES
from app.auth.models import Role
from app.auth.permissions import Permissions


class BcaAction(StrEnum):
    """The BCA notice actions."""

    VIEW = "view"
    SEND = "send"
    ACKNOWLEDGE = "acknowledge"
    WATCH_OVERDUE = "watch_overdue"
    WATCH_DUE = "watch_due"


#: Notices follow the equipment they are about: the Deputy Chief, the designee and the ALPR
#: administrator install devices and place them (425.3), so they send the notices and record the
#: BCA's acknowledgement; auditors look (the biennial audit counts overdue notices). An overdue
#: notice is shown on the home page of the Deputy Chief and the ALPR administrators.
BCA_PERMISSIONS = Permissions(
    {
        BcaAction.VIEW: EQUIPMENT_ROLES | {Role.AUDITOR},
        BcaAction.SEND: EQUIPMENT_ROLES,
        BcaAction.ACKNOWLEDGE: EQUIPMENT_ROLES,
        BcaAction.WATCH_OVERDUE: frozenset({Role.DEPUTY_CHIEF, Role.ADMIN}),
        # Notices due soon or overdue head the home page of everyone who sends them.
        BcaAction.WATCH_DUE: EQUIPMENT_ROLES,
    }
)
