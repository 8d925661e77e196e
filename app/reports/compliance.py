"""The seven compliance counters of the biennial audit (§ 13.824 subd. 6), live.

Each counter is a count with the records behind it, so that a figure above zero leads to the
rows and audit entries an auditor needs. Counts are exact; the records listed are capped
(:data:`MAX_REFERENCES`) so that a page stays readable when something has gone badly wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, inspect, not_, or_, select
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.models import CHAIN_ORDER, AuditEntry
from app.auth.models import TrainingRecord
from app.bca.services import overdue_notices
from app.core.timeutil import display_zone
from app.db import Base
from app.reads.models import Read, Search
from app.requests.models import AgencyRequest, ReleasePackage, RequestStatus
from app.retention.acp.digests import hmac_key, keyed_digest
from app.retention.acp.screening import SUPPRESSING_STATUSES
from app.retention.destruction import held_clause
from app.retention.holds import scopes_keeping
from app.retention.models import AcpPlate, AcpRequest, AcpStatus

#: The states of a request whose data may have been released: approved, then fulfilled, closed.
APPROVED_STATUSES = (
    RequestStatus.APPROVED.value,
    RequestStatus.FULFILLED.value,
    RequestStatus.CLOSED.value,
)

#: Records listed behind one counter; the count itself is never capped.
MAX_REFERENCES = 200

#: Actions by which a person reached ALPR data (425.4(d): only with current training).
DATA_ACCESS_ACTIONS = frozenset(
    {
        AuditAction.READ_VIEWED,
        AuditAction.READ_IMAGE_VIEWED,
        AuditAction.REVIEW_QUEUE_VIEWED,
        AuditAction.READ_PLATE_CONFIRMED,
        AuditAction.READ_PLATE_CORRECTED,
        AuditAction.HITS_VIEWED,
        AuditAction.HIT_CONFIRMED,
        AuditAction.HIT_NOT_CONFIRMED,
        AuditAction.HIT_ENFORCEMENT_RECORDED,
        AuditAction.HIT_CLOSED,
        AuditAction.SEARCH_PERFORMED,
        AuditAction.SEARCH_PAGE_VIEWED,
        AuditAction.AUDIT_VIEWED,
        AuditAction.AUDIT_EXPORTED,
    }
)

#: Tables that hold read data, whose every column must be one the code declares: a column
#: added behind the code's back (vehicle make, a driver's name) is a field the statute does not
#: allow (§ 13.824 subd. 2, 425.4.1(a)).
READ_DATA_TABLES = ("reads", "read_images", "hits")


@dataclass(frozen=True)
class Reference:
    """One record behind a figure: a row (`table`, `id`) and what to call it."""

    table: str
    id: str
    label: str

    def as_dict(self) -> dict[str, str]:
        """For the JSON report."""
        return {"table": self.table, "id": self.id, "label": self.label}


@dataclass(frozen=True)
class Counter:
    """One counter: how many violations, the records behind them, and a note where due."""

    key: str
    title: str
    count: int
    references: list[Reference] = field(default_factory=list)
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """For the JSON report's `violations` object."""
        value: dict[str, Any] = {
            "count": self.count,
            "entries": [ref.as_dict() for ref in self.references],
        }
        if self.note:
            value["note"] = self.note
        return value


@dataclass(frozen=True)
class Period:
    """The half-open stretch of time a report covers, in UTC: [start, end)."""

    start: datetime
    end: datetime


def _capped(refs: Iterable[Reference]) -> list[Reference]:
    out = []
    for ref in refs:
        out.append(ref)
        if len(out) == MAX_REFERENCES:
            break
    return out


def reads_kept_past_retention(session: Session, now: datetime, retention_days: int) -> Counter:
    """Reads older than the retention period (× 24 hours) that no hold in force keeps."""
    where = (
        Read.captured_at < now - timedelta(days=retention_days),
        not_(held_clause(scopes_keeping(session))),
    )
    count = session.scalar(select(func.count()).select_from(Read).where(*where)) or 0
    ids = session.scalars(select(Read.id).where(*where).order_by(Read.id).limit(MAX_REFERENCES))
    return Counter(
        "reads_kept_past_retention",
        f"Reads kept past {retention_days} days with no hold",
        count,
        [Reference("reads", str(i), f"read {i}") for i in ids],
    )


#: Requests whose participant's existing reads must already be gone (destroyed after
#: verification): a read of theirs still stored, and not deferred under a hold, is a violation.
#: Before that, a received or verified request's reads are kept out of use, lawfully.
DESTROYED_STATUSES = (AcpStatus.EXISTING_DESTROYED.value, AcpStatus.SUPPRESSION_ACTIVE.value)


def _suppressed_digests(session: Session, statuses: Iterable[str]) -> dict[str, int]:
    rows = session.execute(
        select(AcpPlate.plate_hmac, AcpPlate.request_id)
        .join(AcpRequest, AcpRequest.id == AcpPlate.request_id)
        .where(AcpRequest.status.in_(list(statuses)))
    )
    return {digest: request_id for digest, request_id in rows}


def _criteria_plate(criteria_json: str) -> str | None:
    try:
        plate = json.loads(criteria_json).get("plate")
    except (ValueError, AttributeError):
        return None
    return plate if isinstance(plate, str) and plate else None


def acp_plates_stored(session: Session) -> Counter:
    """Reads and search records that hold an ACP participant's plate in clear (425.5(b)).

    A search record may never name a protected plate, from the request's entry on; a read may
    not once the participant's existing data was destroyed, unless a hold defers it. The
    plates are known only as keyed digests, so every distinct stored plate is digested and
    compared; the references name the rows, never the plate.
    """
    suppressed = _suppressed_digests(session, SUPPRESSING_STATUSES)
    destroyed = _suppressed_digests(session, DESTROYED_STATUSES)
    refs: list[Reference] = []
    count = 0
    if suppressed:
        digest = keyed_digest(hmac_key(session))
        undeferred = (Read.plate.is_not(None), Read.acp_deferred_at.is_(None))
        plates = session.scalars(select(Read.plate).where(*undeferred).distinct()).all()
        protected = [plate for plate in plates if digest(plate) in destroyed]
        for start in range(0, len(protected), 500):
            chunk = Read.plate.in_(protected[start : start + 500])
            count += (
                session.scalar(select(func.count()).select_from(Read).where(chunk, *undeferred))
                or 0
            )
            refs += [
                Reference("reads", str(i), f"read {i}")
                for i in session.scalars(
                    select(Read.id).where(chunk, *undeferred).limit(MAX_REFERENCES)
                )
            ]
        for search_id, followed, criteria in session.execute(
            select(Search.id, Search.followed_plate, Search.criteria_json)
        ):
            clear = [p for p in (followed, _criteria_plate(criteria)) if p]
            if any(digest(p) in suppressed for p in clear):
                count += 1
                refs.append(Reference("searches", str(search_id), f"search {search_id}"))
    return Counter(
        "acp_plates_stored",
        "ACP participants' plates stored in clear",
        count,
        _capped(refs),
        None if suppressed else "No ACP request is suppressing plates.",
    )


def searches_without_purpose_or_case(session: Session, period: Period | None = None) -> Counter:
    """Searches whose record lacks the official use, the purpose or the case number (425.6(b))."""
    where: list[Any] = [
        or_(
            Search.purpose_category.is_(None),
            func.trim(Search.purpose) == "",
            func.trim(Search.case_number) == "",
        )
    ]
    if period is not None:
        where += [Search.created_at >= period.start, Search.created_at < period.end]
    count = session.scalar(select(func.count()).select_from(Search).where(*where)) or 0
    ids = session.scalars(select(Search.id).where(*where).order_by(Search.id).limit(MAX_REFERENCES))
    return Counter(
        "searches_without_purpose_or_case",
        "Searches without an official use, purpose or case number",
        count,
        [Reference("searches", str(i), f"search {i}") for i in ids],
    )


def _training_windows(session: Session) -> dict[int, list[tuple[date, date]]]:
    windows: dict[int, list[tuple[date, date]]] = {}
    for user_id, completed, expires in session.execute(
        select(TrainingRecord.user_id, TrainingRecord.completed_on, TrainingRecord.expires_on)
    ):
        windows.setdefault(user_id, []).append((completed, expires))
    return windows


def access_without_current_training(session: Session, period: Period | None = None) -> Counter:
    """Each time a person reached ALPR data without training current on that local day."""
    windows = _training_windows(session)
    zone = display_zone()
    stmt: Select[Any] = (
        select(
            AuditEntry.seq,
            AuditEntry.actor_user_id,
            AuditEntry.actor_label,
            AuditEntry.action,
            AuditEntry.occurred_at,
        )
        .where(
            AuditEntry.action.in_([action.value for action in DATA_ACCESS_ACTIONS]),
            AuditEntry.actor_user_id.is_not(None),
        )
        .order_by(*CHAIN_ORDER)
        .execution_options(yield_per=5000)
    )
    if period is not None:
        stmt = stmt.where(
            AuditEntry.occurred_at >= period.start, AuditEntry.occurred_at < period.end
        )
    count = 0
    refs: list[Reference] = []
    for seq, user_id, label, action, occurred_at in session.execute(stmt):
        day = occurred_at.astimezone(zone).date()
        if any(start <= day <= end for start, end in windows.get(user_id, ())):
            continue
        count += 1
        if len(refs) < MAX_REFERENCES:
            refs.append(Reference("audit_entries", str(seq), f"{action} by {label}"))
    return Counter(
        "access_without_current_training",
        "Access to ALPR data without current training",
        count,
        refs,
    )


def bca_notices_overdue(session: Session, today: date) -> Counter:
    """BCA notices past their 10-day due date and still not sent (425.4.1(d))."""
    notices = overdue_notices(session, today)
    return Counter(
        "bca_notices_overdue",
        "BCA notices overdue",
        len(notices),
        _capped(Reference("bca_notices", str(n.id), f"notice {n.id}") for n in notices),
    )


def fields_outside_statute(session: Session) -> Counter:
    """Columns of the read-data tables that the code does not declare (425.4.1(a))."""
    inspector = inspect(session.connection())
    refs = []
    for table in READ_DATA_TABLES:
        declared = set(Base.metadata.tables[table].columns.keys())
        for column in inspector.get_columns(table):
            if column["name"] not in declared:
                refs.append(Reference(table, column["name"], f"{table}.{column['name']}"))
    return Counter(
        "fields_outside_statute",
        "Fields stored outside what the statute allows",
        len(refs),
        refs,
    )


def releases_without_approval(session: Session, period: Period | None = None) -> Counter:
    """Release packages built for a request the Deputy Chief or designee had not approved first.

    Approval is a decision by a person with a written reasonable-suspicion finding naming the
    active investigation (425.7), made before the package was built.
    """
    unapproved = or_(
        AgencyRequest.decided_by_id.is_(None),
        AgencyRequest.decided_at.is_(None),
        AgencyRequest.finding.is_(None),
        func.trim(AgencyRequest.finding) == "",
        AgencyRequest.active_investigation.is_(None),
        AgencyRequest.decided_at > ReleasePackage.created_at,
        AgencyRequest.status.not_in(APPROVED_STATUSES),
    )
    where: list[Any] = [ReleasePackage.built_at.is_not(None), unapproved]
    if period is not None:
        where += [ReleasePackage.built_at >= period.start, ReleasePackage.built_at < period.end]
    stmt = select(ReleasePackage.id, ReleasePackage.request_id).join(
        AgencyRequest, AgencyRequest.id == ReleasePackage.request_id
    )
    rows = session.execute(stmt.where(*where).order_by(ReleasePackage.id)).all()
    return Counter(
        "releases_without_approval",
        "Releases without an approved request",
        len(rows),
        _capped(
            Reference("agency_requests", str(request), f"package {package} of request {request}")
            for package, request in rows
        ),
    )


#: The order the counters appear in, on the page and in the report.
COUNTER_KEYS = (
    "reads_kept_past_retention",
    "acp_plates_stored",
    "searches_without_purpose_or_case",
    "access_without_current_training",
    "releases_without_approval",
    "bca_notices_overdue",
    "fields_outside_statute",
)


def compliance_counters(
    session: Session,
    now: datetime,
    *,
    retention_days: int,
    today: date,
    period: Period | None = None,
) -> list[Counter]:
    """All seven counters at `now`; those about acts (searches, access, releases) over `period`."""
    return [
        reads_kept_past_retention(session, now, retention_days),
        acp_plates_stored(session),
        searches_without_purpose_or_case(session, period),
        access_without_current_training(session, period),
        releases_without_approval(session, period),
        bca_notices_overdue(session, today),
        fields_outside_statute(session),
    ]
