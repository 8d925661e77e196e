"""The auditor's view of the trail: filtered pages and exports, each recorded as an access.

The entries' details hold ALPR data (plates read by OCR, search criteria), so looking at them is
itself a use of the data (425.6(e)): every page and every export is an entry naming the filter
and which entries it showed, never their details.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.audit.actions import CONFIDENTIAL_DETAILS, AuditAction
from app.audit.models import NEWEST_FIRST, AuditEntry
from app.audit.services import bring_up_to_date, record
from app.core.edges import MAX_ROW_ID
from app.db import Base

#: Rows fetched at a time while an export streams.
EXPORT_CHUNK = 2000


@dataclass(frozen=True)
class TrailFilter:
    """What the auditor narrowed the trail to; times are UTC (`until` exclusive)."""

    action: AuditAction | None = None
    actor_user_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    subject_type: str | None = None
    subject_id: str | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """`stmt` narrowed to the entries this filter keeps."""
        if self.action is not None:
            stmt = stmt.where(AuditEntry.action == self.action.value)
        if self.actor_user_id is not None:
            stmt = stmt.where(AuditEntry.actor_user_id == self.actor_user_id)
        if self.since is not None:
            stmt = stmt.where(AuditEntry.occurred_at >= self.since)
        if self.until is not None:
            stmt = stmt.where(AuditEntry.occurred_at < self.until)
        if self.subject_type is not None:
            stmt = stmt.where(AuditEntry.subject_type == self.subject_type)
        if self.subject_id is not None:
            stmt = stmt.where(AuditEntry.subject_id == self.subject_id)
        return stmt

    def as_details(self) -> dict[str, Any]:
        """The filter as the access entry records it (only what was set)."""
        values = {
            "action": self.action.value if self.action else None,
            "actor_user_id": self.actor_user_id,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
        }
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class TrailPage:
    """One page of the filtered trail, newest first."""

    rows: list[AuditEntry]
    page: int
    pages: int
    total: int


def _count(session: Session, trail_filter: TrailFilter) -> int:
    return session.scalar(trail_filter.apply(select(func.count(AuditEntry.id)))) or 0


def browse_trail(
    session: Session, actor: Any, trail_filter: TrailFilter, *, page: int, page_size: int
) -> TrailPage:
    """A page of entries, recorded as an access naming the filter and the entries shown.

    Raises LookupError for a page past the last one (nothing is shown, nothing recorded).
    """
    page = max(1, page)
    total = _count(session, trail_filter)
    pages = max(1, -(-total // page_size))
    if page > pages:
        raise LookupError(f"page {page} is past the last page ({pages})")
    stmt = trail_filter.apply(select(AuditEntry)).order_by(*NEWEST_FIRST)
    rows = list(session.scalars(stmt.limit(page_size).offset((page - 1) * page_size)))
    record(
        session,
        actor,
        AuditAction.AUDIT_VIEWED,
        ("page", "audit.entries"),
        {
            "page": page,
            "filter": trail_filter.as_details(),
            "result_count": len(rows),
            "total": total,
            "seqs": [rows[0].seq, rows[-1].seq] if rows else [],
        },
    )
    return TrailPage(rows, page, pages, total)


def record_export(session: Session, actor: Any, trail_filter: TrailFilter) -> int:
    """Record an export of the filtered trail before it is sent; returns how many entries.

    The entry is written first and names the highest seq exported, so the export holds exactly
    the entries up to it that match (later entries, this one included, are not in it). What
    waits for the sequencer is chained first, so the export leaves out no committed entry.
    """
    bring_up_to_date(session)
    last_seq = session.scalar(trail_filter.apply(select(func.max(AuditEntry.seq))))
    exported = trail_filter.apply(select(func.count(AuditEntry.id)))
    total = session.scalar(exported.where(AuditEntry.seq <= (last_seq or 0))) or 0
    record(
        session,
        actor,
        AuditAction.AUDIT_EXPORTED,
        ("page", "audit.export"),
        {"filter": trail_filter.as_details(), "entries": total, "up_to_seq": last_seq},
    )
    return last_seq or 0


def exported_entries(
    session: Session, trail_filter: TrailFilter, up_to_seq: int
) -> Iterator[AuditEntry]:
    """The entries of a recorded export, oldest first, fetched in chunks (bounded memory)."""
    after = 0
    while True:
        chunk = list(
            session.scalars(
                trail_filter.apply(select(AuditEntry))
                .where(AuditEntry.seq > after, AuditEntry.seq <= up_to_seq)
                .order_by(AuditEntry.seq)
                .limit(EXPORT_CHUNK)
            )
        )
        if not chunk:
            return
        yield from chunk
        after = chunk[-1].seq
        session.expunge_all()


#: What the trail shows in place of confidential data to an account not authorised for it.
WITHHELD = "withheld: confidential (policy 425.4(e))"


def details_of(entry: AuditEntry, sees_confidential: bool) -> dict[str, Any] | None:
    """An entry's details as a person may see them, or None when they were redacted.

    The confidential fields of the action (:data:`app.audit.actions.CONFIDENTIAL_DETAILS`,
    hotlist record numbers from state and federal files) are replaced by :data:`WITHHELD`
    unless the viewer is authorised for confidential data (425.4(e)).
    """
    if entry.detail is None or entry.detail.details_json is None:
        return None
    value = json.loads(entry.detail.details_json)
    details = value if isinstance(value, dict) else {"value": value}
    if sees_confidential:
        return details
    hidden = CONFIDENTIAL_DETAILS.get(entry.action, frozenset())
    return {k: (WITHHELD if k in hidden and v is not None else v) for k, v in details.items()}


def subject_types(session: Session) -> list[str]:
    """The kinds of subject the filter offers: every table, and any other kind the trail names.

    Every table, not only those named so far, so that a link to a record's entries (from a
    report) is a valid filter even before anything about that record was recorded.
    """
    named = session.scalars(
        select(AuditEntry.subject_type).where(AuditEntry.subject_type.is_not(None)).distinct()
    )
    return sorted(set(named) | set(Base.metadata.tables))


#: What a row of each table is called, and the column that names it, for the tables a person
#: would rather see by name than by id.
SUBJECT_NAME_COLUMNS = {
    "users": ("user", "name"),
    "agencies": ("agency", "name"),
    "devices": ("device", "serial"),
    "investigations": ("case", "case_number"),
    "hotlist_sources": ("hotlist", "name"),
}


def actor_names(session: Session, entries: Iterable[AuditEntry]) -> dict[int, str]:
    """The names of the people who acted in `entries`, by user id (the label is their email)."""
    ids = {entry.actor_user_id for entry in entries if entry.actor_user_id is not None}
    if not ids:
        return {}
    users = Base.metadata.tables["users"]
    return dict(session.execute(select(users.c.id, users.c.name).where(users.c.id.in_(ids))).all())


def subject_names(session: Session, entries: Iterable[AuditEntry]) -> dict[tuple[str, str], str]:
    """(subject type, subject id) → "user Ada Lee", "device WPD-01": the entries' named subjects.

    Read through the tables themselves: the trail sits below the packages that own them.
    """
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        if entry.subject_type in SUBJECT_NAME_COLUMNS and (entry.subject_id or "").isdigit():
            ident = int(entry.subject_id)
            if ident <= MAX_ROW_ID:
                wanted.setdefault(entry.subject_type, set()).add(ident)
    names: dict[tuple[str, str], str] = {}
    for kind, ids in wanted.items():
        table = Base.metadata.tables.get(kind)
        if table is None:
            continue
        noun, column = SUBJECT_NAME_COLUMNS[kind]
        rows = session.execute(select(table.c.id, table.c[column]).where(table.c.id.in_(ids)))
        names.update({(kind, str(ident)): f"{noun} {name}" for ident, name in rows})
    return names
