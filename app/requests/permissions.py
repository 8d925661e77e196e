"""Who may do what with agency data requests (policy 425.7)."""

from __future__ import annotations

from enum import StrEnum

from app.auth.models import ADMIN_ROLES, Role
from app.auth.permissions import Permissions


class RequestAction(StrEnum):
    """The agency request actions, the agency's and the department's."""

    # the agency portal
    SUBMIT = "submit"
    FOLLOW = "follow"
    ANSWER = "answer"
    WITHDRAW = "withdraw"
    DOWNLOAD = "download"
    # the department
    VIEW = "view"
    REVIEW = "review"
    DECIDE = "decide"
    REFER = "refer"
    BUILD_PACKAGE = "build_package"
    CLOSE = "close"
    MANAGE_AGENCIES = "manage_agencies"
    READ_OUTBOX = "read_outbox"


#: 425.7(b): the Deputy Chief or the authorised designee review and approve.
DECIDERS = frozenset({Role.DEPUTY_CHIEF, Role.DESIGNEE})
AGENCY = frozenset({Role.AGENCY})

#: The agency's users submit, follow, answer, withdraw and download their own agency's requests
#: (the services check the agency); the Deputy Chief or designee review and decide; records
#: staff may also route a request to the Records Maintenance and Release policy; releases are
#: built by the Deputy Chief, designee or ALPR administrator; admins and the Deputy Chief
#: register agencies and invite their users.
REQUEST_PERMISSIONS = Permissions(
    {
        RequestAction.SUBMIT: AGENCY,
        RequestAction.FOLLOW: AGENCY,
        RequestAction.ANSWER: AGENCY,
        RequestAction.WITHDRAW: AGENCY,
        RequestAction.DOWNLOAD: AGENCY,
        RequestAction.VIEW: DECIDERS | {Role.ADMIN, Role.RECORDS, Role.AUDITOR},
        RequestAction.REVIEW: DECIDERS,
        RequestAction.DECIDE: DECIDERS,
        RequestAction.REFER: DECIDERS | {Role.RECORDS},
        RequestAction.BUILD_PACKAGE: DECIDERS | {Role.ADMIN},
        RequestAction.CLOSE: DECIDERS | {Role.ADMIN},
        RequestAction.MANAGE_AGENCIES: ADMIN_ROLES,
        RequestAction.READ_OUTBOX: frozenset({Role.ADMIN}),
    }
)
