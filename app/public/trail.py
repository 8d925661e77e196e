"""The audit trail as the public may have it (§ 13.824 subd. 7): every entry, redacted by key.

Every entry keeps its public fields (time, the employee's name, action, subject, purpose
category, device, counts); only values classified by :mod:`app.public.classification` are
withheld, each replaced by a marker naming its legal basis. Also: actions per month by kind,
for the public page.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.alpr.hotlists import MN_PLATE_FILE
from app.audit.actions import AuditAction
from app.audit.models import CHAIN_ORDER, NEWEST_FIRST, AuditEntry
from app.audit.services import record
from app.auth.models import User
from app.core.timeutil import display_zone, format_local, local_to_utc
from app.investigations.models import Investigation, InvestigationStatus
from app.public.classification import DATE_ONLY_ACTIONS, Basis, Field, classify
from app.reads.models import Deployment, Device

#: What a public copy's PDF holds at most: a longer period is for the CSV.
PDF_MAX_ENTRIES = 5000

#: The kinds the public page counts actions by; any other action counts as "other".
KINDS = ("searches", "views", "releases", "destructions", "holds", "requests", "other")
ACTION_KINDS: dict[str, str] = {
    **dict.fromkeys((AuditAction.SEARCH_PERFORMED, AuditAction.SEARCH_REFUSED), "searches"),
    **dict.fromkeys(
        (
            AuditAction.READ_VIEWED,
            AuditAction.READ_IMAGE_VIEWED,
            AuditAction.SEARCH_PAGE_VIEWED,
            AuditAction.HITS_VIEWED,
            AuditAction.REVIEW_QUEUE_VIEWED,
            AuditAction.PENDING_OCR_VIEWED,
            AuditAction.AUDIT_VIEWED,
            AuditAction.AUDIT_EXPORTED,
            AuditAction.RETENTION_VIEWED,
            AuditAction.AGENCY_REQUEST_REVIEWED,
        ),
        "views",
    ),
    **dict.fromkeys(
        (
            AuditAction.PUBLIC_AUDIT_COPY_RELEASED,
            AuditAction.RELEASE_PACKAGE_BUILT,
            AuditAction.RELEASE_PACKAGE_DOWNLOADED,
        ),
        "releases",
    ),
    **dict.fromkeys(
        (
            AuditAction.READS_PURGED,
            AuditAction.ACP_EXISTING_DESTROYED,
            AuditAction.ACP_DESTROYED_AT_COLLECTION,
            AuditAction.ACP_DEFERRED_DESTROYED,
            AuditAction.BACKUPS_PRUNED,
            AuditAction.BACKUP_RESTORED,
        ),
        "destructions",
    ),
    **dict.fromkeys(
        (
            AuditAction.HOLD_PLACED,
            AuditAction.HOLD_RELEASED,
            AuditAction.EXCULPATORY_ACTIVATED,
            AuditAction.EXCULPATORY_RELEASED,
            AuditAction.EXCULPATORY_DECLINED,
            AuditAction.INVESTIGATION_DATA_RETAINED,
            AuditAction.INVESTIGATION_DATA_RELEASED,
            AuditAction.INVESTIGATION_RETENTION_LAPSED,
        ),
        "holds",
    ),
    **dict.fromkeys(
        (
            AuditAction.EXCULPATORY_RECEIVED,
            AuditAction.ACP_RECEIVED,
            AuditAction.ACP_VERIFIED,
            AuditAction.ACP_SUPPRESSION_ACTIVATED,
            AuditAction.ACP_ENDED,
            AuditAction.AGENCY_REQUEST_SUBMITTED,
            AuditAction.AGENCY_REQUEST_APPROVED,
            AuditAction.AGENCY_REQUEST_DENIED,
            AuditAction.AGENCY_REQUEST_REFERRED,
            AuditAction.AGENCY_REQUEST_WITHDRAWN,
        ),
        "requests",
    ),
    AuditAction.READS_EXPORTED: "releases",
    AuditAction.LIST_EXPORTED: "views",
    AuditAction.BACKUP_CREATED: "other",
}

#: Actor labels of people who are not employees: a sign-in attempt names its network address.
ANONYMOUS_PREFIX = "anonymous@"


def marker(basis: Basis) -> str:
    """What stands in a withheld value's place."""
    return f"[withheld: {basis.value}]"


@dataclass(frozen=True)
class Classified:
    """What the redaction needs to know of the data now: which cases and locations are secret.

    Loaded once per copy or page. A case number or investigation is public only once closed;
    a location only while no one has marked it security information.
    """

    closed_case_numbers: frozenset[str]
    closed_investigation_ids: frozenset[str]
    secret_deployment_ids: frozenset[str]
    secret_device_ids: frozenset[str]
    employees: dict[int, str]
    serials: dict[str, str]

    @classmethod
    def load(cls, session: Session) -> Classified:
        """Read the facts the table's conditional classifications depend on."""
        closed = session.execute(
            select(Investigation.id, Investigation.case_number).where(
                Investigation.status != InvestigationStatus.ACTIVE.value
            )
        ).all()
        secret = session.execute(
            select(Deployment.id, Deployment.device_id).where(Deployment.security_information)
        ).all()
        return cls(
            closed_case_numbers=frozenset(number for _, number in closed),
            closed_investigation_ids=frozenset(str(ident) for ident, _ in closed),
            secret_deployment_ids=frozenset(str(ident) for ident, _ in secret),
            secret_device_ids=frozenset(str(device) for _, device in secret),
            employees=dict(session.execute(select(User.id, User.name)).tuples().all()),
            serials={str(i): s for i, s in session.execute(select(Device.id, Device.serial))},
        )

    def investigation_closed(self, entry: AuditEntry, details: dict[str, Any]) -> bool:
        """Whether the investigation the entry concerns is known and closed (else withheld)."""
        if entry.subject_type == "investigations":
            return entry.subject_id in self.closed_investigation_ids
        number = details.get("case_number")
        if isinstance(number, str) and number:
            return number in self.closed_case_numbers
        ident = details.get("investigation_id")
        return ident is not None and str(ident) in self.closed_investigation_ids

    def location_secret(self, entry: AuditEntry) -> bool:
        """Whether the entry's deployment, or any deployment of its device, is secret."""
        if entry.subject_type == "deployments":
            return entry.subject_id in self.secret_deployment_ids
        if entry.subject_type == "devices":
            return entry.subject_id in self.secret_device_ids
        return True

    def basis_for(
        self, entry: AuditEntry, details: dict[str, Any], key: str, value: Any
    ) -> Basis | None:
        """Why `key` is withheld from the public, or None when it is public."""
        kind = classify(entry.action, key)
        if kind is None:
            return Basis.UNCLASSIFIED
        if kind is Field.HOTLIST_SOURCE:
            kind = Field.PUBLIC if value == MN_PLATE_FILE else Field.INVESTIGATION
        if kind is Field.INVESTIGATION:
            closed = self.investigation_closed(entry, details)
            return None if closed else Basis.ACTIVE_INVESTIGATION
        if kind is Field.LOCATION:
            return Basis.SECURITY if self.location_secret(entry) else None
        return FIXED_BASES[kind]


FIXED_BASES: dict[Field, Basis | None] = {
    Field.PUBLIC: None,
    Field.READ_DATA: Basis.READ_DATA,
    Field.ACP: Basis.ACP,
    Field.SECURITY: Basis.SECURITY,
}


@dataclass
class PublicEntry:
    """One entry as the public copy shows it; `redactions` names each withheld key's basis."""

    seq: int | None
    time: str
    employee: str
    action: str
    subject: str
    purpose_category: str
    device: str
    details: dict[str, Any]
    redactions: dict[str, str] = field(default_factory=dict)

    def details_text(self) -> str:
        """The details as one line of JSON, markers in place of withheld values."""
        return json.dumps(self.details, sort_keys=True, ensure_ascii=False, default=str)

    def redactions_text(self) -> str:
        """Each withheld key with its legal basis."""
        return "; ".join(f"{key}: {basis}" for key, basis in sorted(self.redactions.items()))


def _employee(entry: AuditEntry, known: Classified, redactions: dict[str, str]) -> str:
    if entry.actor_user_id is not None:
        return known.employees.get(entry.actor_user_id, entry.actor_label)
    if entry.actor_label.startswith(ANONYMOUS_PREFIX):
        redactions["actor address"] = Basis.SECURITY.value
        return f"anonymous {marker(Basis.SECURITY)}"
    return entry.actor_label


def _device(entry: AuditEntry, details: dict[str, Any], known: Classified) -> str:
    if isinstance(details.get("serial"), str):
        return details["serial"]
    if entry.actor_label.startswith("device:"):
        return entry.actor_label.removeprefix("device:")
    if entry.subject_type == "devices" and entry.subject_id is not None:
        return known.serials.get(entry.subject_id, "")
    return ""


def public_entry(entry: AuditEntry, known: Classified) -> PublicEntry:
    """The entry with every classified value withheld and every public one kept."""
    redactions: dict[str, str] = {}
    detail = entry.detail
    stored = json.loads(detail.details_json) if detail and detail.details_json else None
    shown: dict[str, Any] = {}
    if stored is None:
        reason = (detail.redacted_reason if detail else None) or "details missing"
        redactions["details"] = f"destroyed earlier: {reason}"
    else:
        for key, value in stored.items():
            basis = known.basis_for(entry, stored, key, value)
            if basis is None:
                shown[key] = value
            else:
                shown[key] = marker(basis)
                redactions[key] = basis.value
    time = format_local(entry.occurred_at, "%Y-%m-%d %H:%M:%S %Z")
    if entry.action in DATE_ONLY_ACTIONS:
        time = format_local(entry.occurred_at, "%Y-%m-%d")
        redactions["time of day"] = Basis.ACP.value
    category = shown.get("purpose_category")
    return PublicEntry(
        seq=entry.seq,
        time=time,
        employee=_employee(entry, known, redactions),
        action=entry.action,
        subject=f"{entry.subject_type} {entry.subject_id or ''}".strip()
        if entry.subject_type
        else "",
        purpose_category=category if isinstance(category, str) else "",
        device=_device(entry, shown, known),
        details=shown,
        redactions=redactions,
    )


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC instants of local midnight starting `start` and ending `end` (inclusive)."""
    return (
        local_to_utc(datetime.combine(start, datetime.min.time())),
        local_to_utc(datetime.combine(end + timedelta(days=1), datetime.min.time())),
    )


def _entries(session: Session, start: date, end: date) -> Iterator[AuditEntry]:
    begin, finish = period_bounds(start, end)
    yield from session.scalars(
        select(AuditEntry)
        .where(AuditEntry.occurred_at >= begin, AuditEntry.occurred_at < finish)
        .order_by(*CHAIN_ORDER)
        .execution_options(yield_per=2000)
    )


def count_entries(session: Session, start: date, end: date) -> int:
    """How many entries the period holds (the PDF refuses more than :data:`PDF_MAX_ENTRIES`)."""
    begin, finish = period_bounds(start, end)
    return (
        session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.occurred_at >= begin, AuditEntry.occurred_at < finish
            )
        )
        or 0
    )


CSV_COLUMNS = (
    "seq",
    "time",
    "employee",
    "action",
    "subject",
    "purpose_category",
    "device",
    "details",
    "withheld",
)


def _csv_line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def public_copy_csv(session: Session, start: date, end: date) -> Iterator[str]:
    """The period's entries as CSV lines, header first, each entry redacted by key."""
    known = Classified.load(session)
    yield _csv_line(CSV_COLUMNS)
    for entry in _entries(session, start, end):
        shown = public_entry(entry, known)
        yield _csv_line(
            (
                shown.seq or "pending",
                shown.time,
                shown.employee,
                shown.action,
                shown.subject,
                shown.purpose_category,
                shown.device,
                shown.details_text(),
                shown.redactions_text(),
            )
        )


def public_copy_entries(session: Session, start: date, end: date) -> list[PublicEntry]:
    """The period's entries, redacted, for the PDF (at most :data:`PDF_MAX_ENTRIES`)."""
    known = Classified.load(session)
    return [public_entry(entry, known) for entry in _entries(session, start, end)]


def record_release(
    session: Session, actor: Any, *, start: date, end: date, fmt: str, entries: int
) -> None:
    """A public copy handed out is a release of public data: it is itself an entry."""
    record(
        session,
        actor,
        AuditAction.PUBLIC_AUDIT_COPY_RELEASED,
        None,
        {"start": start.isoformat(), "end": end.isoformat(), "format": fmt, "entries": entries},
    )


@dataclass(frozen=True)
class TrailPage:
    """One page of the published, redacted trail, newest first."""

    rows: list[PublicEntry]
    page: int
    pages: int
    total: int


def published_page(session: Session, page: int, page_size: int) -> TrailPage:
    """A page of the redacted trail for the public page; LookupError past the last page."""
    total = session.scalar(select(func.count(AuditEntry.id))) or 0
    pages = max(1, -(-total // page_size))
    if not 1 <= page <= pages:
        raise LookupError(f"page {page} is outside 1..{pages}")
    known = Classified.load(session)
    entries = session.scalars(
        select(AuditEntry).order_by(*NEWEST_FIRST).limit(page_size).offset((page - 1) * page_size)
    )
    return TrailPage([public_entry(e, known) for e in entries], page, pages, total)


def actions_by_month(session: Session) -> list[tuple[str, dict[str, int]]]:
    """Entries per local month and kind, newest month first (the public summary).

    Counted per UTC hour in SQL (both databases), then each hour put in its local month: the
    department's zone is a whole number of hours from UTC.
    """
    hour = (
        func.strftime("%Y-%m-%d %H", AuditEntry.occurred_at)
        if session.get_bind().dialect.name == "sqlite"
        else func.to_char(func.timezone("UTC", AuditEntry.occurred_at), "YYYY-MM-DD HH24")
    )
    rows = session.execute(
        select(hour, AuditEntry.action, func.count(AuditEntry.id)).group_by(hour, AuditEntry.action)
    )
    zone = display_zone()
    months: dict[str, Counter[str]] = {}
    for stamp, action, count in rows:
        moment = datetime.strptime(stamp, "%Y-%m-%d %H").replace(tzinfo=UTC).astimezone(zone)
        months.setdefault(moment.strftime("%Y-%m"), Counter())[
            ACTION_KINDS.get(action, "other")
        ] += count
    return [
        (month, {kind: months[month][kind] for kind in KINDS})
        for month in sorted(months, reverse=True)
    ]
