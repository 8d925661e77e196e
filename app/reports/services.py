"""Recording the compliance checks and the reports: each is an audit entry (425.6(e)).

The last check's counts are read back from the trail for the Deputy Chief's home page, so a
counter above zero shows there without recomputing every counter on each visit.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.models import NEWEST_FIRST, AuditEntry
from app.audit.services import record
from app.reports.compliance import Counter, compliance_counters


def check_compliance(
    session: Session, actor: Any, now: datetime, *, retention_days: int, today: date
) -> list[Counter]:
    """Compute the seven counters now and record their counts."""
    counters = compliance_counters(session, now, retention_days=retention_days, today=today)
    record(
        session,
        actor,
        AuditAction.COMPLIANCE_CHECKED,
        None,
        {"counts": {counter.key: counter.count for counter in counters}},
    )
    return counters


def _last(session: Session, action: AuditAction) -> tuple[AuditEntry, dict[str, Any]] | None:
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == action.value).order_by(*NEWEST_FIRST).limit(1)
    ).first()
    if entry is None:
        return None
    details = entry.detail.details_json if entry.detail else None
    return entry, json.loads(details) if details else {}


def last_compliance_check(session: Session) -> tuple[AuditEntry, dict[str, int]] | None:
    """When the counters were last computed, and their counts then."""
    found = _last(session, AuditAction.COMPLIANCE_CHECKED)
    return None if found is None else (found[0], found[1].get("counts", {}))


def record_report(session: Session, actor: Any, report: dict[str, Any], fmt: str) -> None:
    """A biennial report was produced: its period, format and content hash."""
    record(
        session,
        actor,
        AuditAction.REPORT_GENERATED,
        None,
        {
            "period": report["period"],
            "format": fmt,
            "content_hash": report["content_hash"],
            "violations": {k: v["count"] for k, v in report["violations"].items()},
        },
    )


def last_report(session: Session) -> tuple[AuditEntry, dict[str, Any]] | None:
    """The newest report produced, for the compliance page."""
    return _last(session, AuditAction.REPORT_GENERATED)
