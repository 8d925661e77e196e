"""Who reads the compliance counters and the biennial report (425.6(c), § 13.824 subd. 6)."""

from __future__ import annotations

from enum import StrEnum

from app.auth.models import Role
from app.auth.permissions import Permissions


class ReportAction(StrEnum):
    """The reports' actions."""

    VIEW_COMPLIANCE = "view_compliance"
    RUN_BIENNIAL = "run_biennial"
    WATCH_COUNTERS = "watch_counters"
    WATCH_AUDIT = "watch_audit"


#: The Deputy Chief and designee answer for compliance (425.3); the auditor checks it.
REPORT_READERS = frozenset({Role.DEPUTY_CHIEF, Role.DESIGNEE, Role.AUDITOR})

REPORT_PERMISSIONS = Permissions(
    {
        ReportAction.VIEW_COMPLIANCE: REPORT_READERS,
        ReportAction.RUN_BIENNIAL: REPORT_READERS,
        # A counter above zero is theirs to act on: it shows on their home page.
        ReportAction.WATCH_COUNTERS: frozenset({Role.DEPUTY_CHIEF, Role.DESIGNEE}),
        # The chain's last verification and the last report head the auditor's home page.
        ReportAction.WATCH_AUDIT: frozenset({Role.AUDITOR}),
    }
)
