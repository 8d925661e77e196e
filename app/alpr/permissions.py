"""Who may do what in the ALPR domain (425.3, 425.4(d), 425.6(b))."""

from __future__ import annotations

from enum import StrEnum

from app.auth.access import ALPR_DATA_ROLES, EQUIPMENT_ROLES
from app.auth.permissions import Permissions


class AlprAction(StrEnum):
    """The ALPR domain's actions."""

    USE_DATA = "use_data"
    WORK_HITS = "work_hits"
    REVIEW_PLATES = "review_plates"
    ADMINISTER_EQUIPMENT = "administer_equipment"


#: Reads, hits and plate review are for the roles that run ALPR day to day (with current
#: training, checked by the route); devices, deployments and hotlists for the Deputy Chief, the
#: designee and the ALPR administrator, who manage installation and maintenance (425.3).
ALPR_PERMISSIONS = Permissions(
    {
        AlprAction.USE_DATA: ALPR_DATA_ROLES,
        AlprAction.WORK_HITS: ALPR_DATA_ROLES,
        AlprAction.REVIEW_PLATES: ALPR_DATA_ROLES,
        AlprAction.ADMINISTER_EQUIPMENT: EQUIPMENT_ROLES,
    }
)
