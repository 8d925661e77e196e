"""Who may do what in the retention domain (425.3, 425.5)."""

from __future__ import annotations

from enum import StrEnum

from app.auth.models import Role
from app.auth.permissions import Permissions


class RetentionAction(StrEnum):
    """The retention domain's actions."""

    VIEW = "view"
    ENTER_REQUESTS = "enter_requests"
    ACTIVATE_EXCULPATORY = "activate_exculpatory"
    DECLINE_EXCULPATORY = "decline_exculpatory"
    RELEASE_EXCULPATORY = "release_exculpatory"
    MOVE_ACP = "move_acp"
    DECLINE_ACP = "decline_acp"
    PLACE_HOLDS = "place_holds"
    RELEASE_HOLDS = "release_holds"
    SEE_ACP_DOCUMENTS = "see_acp_documents"
    WATCH_REQUESTS = "watch_requests"


#: Retention belongs to the Deputy Chief or designee (425.3, 425.5); administrators and the
#: records staff who take written requests see it, enter requests and move them along.
STAFF = frozenset({Role.DEPUTY_CHIEF, Role.DESIGNEE, Role.ADMIN, Role.RECORDS})
#: The Deputy Chief or designee, whom 425.3 and 425.5 make responsible for retention.
RESPONSIBLE = frozenset({Role.DEPUTY_CHIEF, Role.DESIGNEE})
#: Who places and releases investigation holds (425.3): the responsible officers and
#: administrators, not records staff.
HOLD_KEEPERS = RESPONSIBLE | {Role.ADMIN}
#: Who puts an exculpatory hold in force: the responsible officers, or the records staff who
#: took the written request (not administrators).
REQUEST_TAKERS = RESPONSIBLE | {Role.RECORDS}

RETENTION_PERMISSIONS = Permissions(
    {
        RetentionAction.VIEW: STAFF,
        RetentionAction.ENTER_REQUESTS: STAFF,
        RetentionAction.ACTIVATE_EXCULPATORY: REQUEST_TAKERS,
        # Declining ends a hold before the matter is resolved, and releasing ends it once the
        # matter is: the responsible officers only (425.5).
        RetentionAction.DECLINE_EXCULPATORY: RESPONSIBLE,
        RetentionAction.RELEASE_EXCULPATORY: RESPONSIBLE,
        RetentionAction.MOVE_ACP: STAFF,
        # Declining ends a participant's suppression: the responsible officers only.
        RetentionAction.DECLINE_ACP: RESPONSIBLE,
        RetentionAction.PLACE_HOLDS: HOLD_KEEPERS,
        RetentionAction.RELEASE_HOLDS: HOLD_KEEPERS,
        # A participant's written request tells where a protected person is: only those who
        # take and decide such requests open the scan, not administrators (425.5(b)).
        RetentionAction.SEE_ACP_DOCUMENTS: REQUEST_TAKERS,
        # Requests and holds waiting for a step show on the home page of those who take them.
        RetentionAction.WATCH_REQUESTS: REQUEST_TAKERS,
    }
)
