"""Who may do what in the ALPR domain (425.3, 425.4(d), 425.6(b))."""

from __future__ import annotations

from enum import StrEnum

from app.auth.access import ALPR_DATA_ROLES, EQUIPMENT_ROLES
from app.auth.models import Role
from app.auth.permissions import Permissions


class AlprAction(StrEnum):
    """The ALPR domain's actions."""

    USE_DATA = "use_data"
    WORK_HITS = "work_hits"
    REVIEW_PLATES = "review_plates"
    OPEN_ANY_CASE_READS = "open_any_case_reads"
    ADMINISTER_EQUIPMENT = "administer_equipment"
    WATCH_HITS = "watch_hits"
    WATCH_EQUIPMENT = "watch_equipment"
    WATCH_PENDING_OCR = "watch_pending_ocr"


#: Reads, hits and plate review are for the roles that run ALPR day to day (with current
#: training, checked by the route); devices, deployments and hotlists for the Deputy Chief, the
#: designee and the ALPR administrator, who manage installation and maintenance (425.3). An
#: investigation's held reads open in its context for its lead, and for the Deputy Chief and
#: the designee, who administer ALPR use (425.3); anyone else states a purpose first.
ALPR_PERMISSIONS = Permissions(
    {
        AlprAction.USE_DATA: ALPR_DATA_ROLES,
        AlprAction.WORK_HITS: ALPR_DATA_ROLES,
        AlprAction.REVIEW_PLATES: ALPR_DATA_ROLES,
        AlprAction.OPEN_ANY_CASE_READS: frozenset({Role.DEPUTY_CHIEF, Role.DESIGNEE}),
        AlprAction.ADMINISTER_EQUIPMENT: EQUIPMENT_ROLES,
        # The home page's cards: open hits, plates to review and one's searches are the
        # operators' day; silent devices and old tokens the ALPR administrator's.
        AlprAction.WATCH_HITS: frozenset({Role.OPERATOR}),
        AlprAction.WATCH_EQUIPMENT: frozenset({Role.ADMIN}),
        # Those who keep the equipment running see on their home page how many reads wait
        # for OCR (a count); the list itself is ALPR data, for USE_DATA with training.
        AlprAction.WATCH_PENDING_OCR: EQUIPMENT_ROLES,
    }
)
