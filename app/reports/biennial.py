"""The biennial audit report (§ 13.824 subd. 6, policy 425.6(c)) for any period.

Built from the stored records and the audit trail only, so any independent auditor can run it
again and get the same report: the content hash printed on it covers everything but the moment
it was made. Every figure refers to the audit entries or rows behind it.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.checkpoints import document, latest_checkpoint, public_key_hex, verify_against
from app.audit.models import CHAIN_ORDER, AuditCheckpoint, AuditEntry
from app.audit.services import canonical_json, verify
from app.auth.models import Agency
from app.bca.services import list_for_period
from app.breaches.models import BreachIncident
from app.core.timeutil import display_zone, format_local, local_to_utc
from app.reads.models import ActiveUsePeriod, Device, PurposeCategory, Search
from app.reports.compliance import Counter, Period, compliance_counters
from app.requests.models import AgencyRequest, ReleasePackage

REPORT_FORMAT = "alpr-records/biennial-report/v1"

#: The steps, from the trail, that show how each request or hold was handled.
HANDLING_ACTIONS = {
    "holds": (AuditAction.HOLD_PLACED, AuditAction.HOLD_RELEASED),
    "exculpatory_requests": (
        AuditAction.EXCULPATORY_RECEIVED,
        AuditAction.EXCULPATORY_ACTIVATED,
        AuditAction.EXCULPATORY_RELEASED,
        AuditAction.EXCULPATORY_DECLINED,
    ),
    "acp_requests": (
        AuditAction.ACP_RECEIVED,
        AuditAction.ACP_VERIFIED,
        AuditAction.ACP_EXISTING_DESTROYED,
        AuditAction.ACP_SUPPRESSION_ACTIVATED,
        AuditAction.ACP_ENDED,
    ),
}


def local_period(start: date, end: date) -> Period:
    """The local calendar days `start` to `end`, inclusive, as UTC bounds."""
    return Period(
        local_to_utc(datetime.combine(start, time.min)),
        local_to_utc(datetime.combine(end + timedelta(days=1), time.min)),
    )


def _in(period: Period, column: Any) -> tuple[Any, Any]:
    return column >= period.start, column < period.end


def _local(moment: datetime) -> str:
    return format_local(moment, "%Y-%m-%d %H:%M %Z")


def _entries(session: Session, period: Period, actions: Iterable[AuditAction]) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action.in_([a.value for a in actions]),
                *_in(period, AuditEntry.occurred_at),
            )
            .order_by(*CHAIN_ORDER)
        )
    )


def _details(entry: AuditEntry) -> dict[str, Any]:
    if entry.detail is None or entry.detail.details_json is None:
        return {}
    value = json.loads(entry.detail.details_json)
    return value if isinstance(value, dict) else {}


def reads_collected(session: Session, period: Period) -> list[dict[str, Any]]:
    """Plates read per device and local month, from the periods of active use.

    Never from the reads themselves, which retention destroys.
    """
    zone = display_zone()
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    rows = session.execute(
        select(Device.serial, ActiveUsePeriod.started_at, ActiveUsePeriod.plates_read)
        .join(Device, Device.id == ActiveUsePeriod.device_id)
        .where(*_in(period, ActiveUsePeriod.started_at))
    )
    for serial, started_at, plates in rows:
        key = (serial, started_at.astimezone(zone).strftime("%Y-%m"))
        totals[key][0] += plates
        totals[key][1] += 1
    return [
        {"device": serial, "month": month, "plates_read": plates, "periods_of_use": periods}
        for (serial, month), (plates, periods) in sorted(totals.items())
    ]


def destruction(session: Session, period: Period) -> dict[str, Any]:
    """What the purges destroyed, and the oldest read's age when it was destroyed."""
    purged = _entries(session, period, [AuditAction.READS_PURGED])
    oldest_hours, oldest_seq = None, None
    for entry in purged:
        captured = _details(entry).get("oldest_captured_at")
        if not captured:
            continue
        hours = (entry.occurred_at - datetime.fromisoformat(captured)).total_seconds() / 3600
        if oldest_hours is None or hours > oldest_hours:
            oldest_hours, oldest_seq = round(hours, 1), entry.seq
    runs = _entries(session, period, [AuditAction.PURGE_COMPLETED])
    acp = _entries(
        session,
        period,
        [
            AuditAction.ACP_EXISTING_DESTROYED,
            AuditAction.ACP_DESTROYED_AT_COLLECTION,
            AuditAction.ACP_DEFERRED_DESTROYED,
        ],
    )
    return {
        "purge_runs": len(runs),
        "reads_destroyed": sum(int(_details(e).get("reads", 0)) for e in purged),
        "oldest_age_at_destruction_hours": oldest_hours,
        "oldest_age_entry": oldest_seq,
        "acp_destructions": len(acp),
        "entries": [e.seq for e in purged + runs + acp],
    }


def handled(session: Session, period: Period, actions: Iterable[AuditAction]) -> list[dict]:
    """Each subject the actions touched in the period, with every step: what, when, by whom."""
    by_subject: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entry in _entries(session, period, actions):
        by_subject[(entry.subject_type or "", entry.subject_id or "")].append(
            {
                "entry": entry.seq,
                "action": entry.action,
                "at": _local(entry.occurred_at),
                "by": entry.actor_label,
            }
        )
    return [
        {"table": table, "id": ident, "steps": steps}
        for (table, ident), steps in sorted(
            by_subject.items(), key=lambda item: item[1][0]["entry"]
        )
    ]


def releases(session: Session, period: Period) -> list[dict[str, Any]]:
    """Each release package built in the period, with its request's approval and finding."""
    rows = session.execute(
        select(ReleasePackage, AgencyRequest, Agency.name)
        .join(AgencyRequest, AgencyRequest.id == ReleasePackage.request_id)
        .join(Agency, Agency.id == AgencyRequest.agency_id)
        .where(ReleasePackage.built_at.is_not(None), *_in(period, ReleasePackage.built_at))
        .order_by(ReleasePackage.id)
    )
    return [
        {
            "package": package.id,
            "request": request.id,
            "agency": agency,
            "built_at": _local(package.built_at),
            "reads": package.read_count,
            "approved_at": _local(request.decided_at) if request.decided_at else None,
            "finding": request.finding,
            "active_investigation": request.active_investigation,
        }
        for package, request, agency in rows
    ]


def searches(session: Session, period: Period) -> dict[str, Any]:
    """Searches by official use, and those under the tracking guard with their authority."""
    counts = dict(
        session.execute(
            select(Search.purpose_category, func.count())
            .where(*_in(period, Search.created_at))
            .group_by(Search.purpose_category)
        ).all()
    )
    by_category = [
        {"category": category.label, "searches": counts.get(category.value, 0)}
        for category in PurposeCategory
    ]
    tracking = [
        {
            "search": search.id,
            "at": _local(search.created_at),
            "by": search.user.name if search.user else None,
            "warrant_number": search.warrant_number,
            "exigent_statement": search.exigent_statement,
        }
        for search in session.scalars(
            select(Search)
            .where(Search.is_tracking.is_(True), *_in(period, Search.created_at))
            .order_by(Search.id)
        )
    ]
    return {
        "total": sum(counts.values()),
        "by_category": by_category,
        "without_category": counts.get(None, 0),
        "tracking": tracking,
    }


def bca_notices(session: Session, period: Period) -> list[dict[str, Any]]:
    """Each BCA notice whose event fell in the period, and whether it went in time."""
    zone = display_zone()
    first, last = period.start.astimezone(zone).date(), period.end.astimezone(zone).date()
    return [
        {
            "notice": notice.id,
            "event": notice.event,
            "event_on": notice.event_on.isoformat(),
            "due_on": notice.due_on.isoformat(),
            "sent_on": notice.sent_on.isoformat() if notice.sent_on else None,
            "on_time": notice.sent_on is not None and notice.sent_on <= notice.due_on,
        }
        for notice in list_for_period(session, first, last)
    ]


def breaches(session: Session, period: Period) -> list[dict[str, Any]]:
    """Breach incidents discovered in the period (425.6(d), § 13.055)."""
    return [
        {
            "incident": incident.id,
            "discovered_at": _local(incident.discovered_at),
            "status": incident.status,
        }
        for incident in session.scalars(
            select(BreachIncident)
            .where(*_in(period, BreachIncident.discovered_at))
            .order_by(BreachIncident.id)
        )
    ]


def chain(session: Session) -> dict[str, Any]:
    """The trail's verification, and against the latest signed checkpoint."""
    result = verify(session)
    checkpoint: AuditCheckpoint | None = latest_checkpoint(session)
    section: dict[str, Any] = {"chain_intact": result.ok, "first_bad_entry": result.first_bad_seq}
    if checkpoint is None:
        section["checkpoint"] = None
        return section
    proof = verify_against(session, document(checkpoint), public_key_hex(session))
    section["checkpoint"] = {
        "seq": checkpoint.seq,
        "head_hash": checkpoint.head_hash,
        "signed_at": _local(checkpoint.signed_at),
        "holds": proof.ok,
    }
    return section


def _violations(counters: list[Counter]) -> dict[str, Any]:
    return {counter.key: counter.as_dict() for counter in counters}


def biennial_report(
    session: Session,
    start: date,
    end: date,
    *,
    department: str,
    retention_days: int,
    now: datetime,
) -> dict[str, Any]:
    """The report for the local calendar days `start` to `end` (inclusive), with its hash."""
    period = local_period(start, end)
    zone = display_zone()
    counters = compliance_counters(
        session,
        now,
        retention_days=retention_days,
        today=now.astimezone(zone).date(),
        period=period,
    )
    body = {
        "format": REPORT_FORMAT,
        "department": department,
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "reads_collected": reads_collected(session, period),
        "destruction": destruction(session, period),
        "holds": handled(session, period, HANDLING_ACTIONS["holds"]),
        "exculpatory_requests": handled(session, period, HANDLING_ACTIONS["exculpatory_requests"]),
        "acp_requests": handled(session, period, HANDLING_ACTIONS["acp_requests"]),
        "releases": releases(session, period),
        "searches": searches(session, period),
        "bca_notices": bca_notices(session, period),
        "breaches": breaches(session, period),
        "chain": chain(session),
        "violations": _violations(counters),
    }
    body["content_hash"] = hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()
    return body
