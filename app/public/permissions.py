"""Who may do what on the transparency side (Minn. Stat. § 13.824 subd. 7).

The public pages need no one; only the public copy of the audit trail, a release of public
data that is audited, is for staff.
"""

from __future__ import annotations

from enum import StrEnum

from app.auth.models import Role
from app.auth.permissions import Permissions


class PublicAction(StrEnum):
    """The transparency actions that need a sign-in."""

    RELEASE_PUBLIC_COPY = "release_public_copy"


#: Records staff answer data requests; the Deputy Chief and the ALPR administrator may too.
#: The copy holds only public data, so no ALPR training is asked (425.4(d) guards ALPR data).
PUBLIC_PERMISSIONS = Permissions(
    {PublicAction.RELEASE_PUBLIC_COPY: frozenset({Role.RECORDS, Role.DEPUTY_CHIEF, Role.ADMIN})}
)
