"""The one place that appends to, redacts and verifies the hash chain.

Every state change in the app calls :func:`record` inside its own transaction, so the action and
its audit entry commit or roll back together. Appends are serialised (a PostgreSQL advisory
transaction lock; on SQLite the write lock taken by the head-row upsert), which keeps the chain
linear however many processes write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.models import GENESIS_HASH, AuditChainHead, AuditDetail, AuditEntry
from app.db import utcnow

if TYPE_CHECKING:
    from app.auth.models import User

#: Arbitrary constant naming the audit chain's advisory lock on PostgreSQL.
AUDIT_LOCK_KEY = 425_006_005


class AuditError(RuntimeError):
    """Raised when an entry cannot be appended or redacted."""


def canonical_json(value: Any) -> str:
    """The byte-stable JSON form that digests are taken of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def details_digest(details_json: str) -> str:
    """The digest the chain covers in place of the (redactable) details."""
    return hashlib.sha256(details_json.encode("utf-8")).hexdigest()


def canonical_header(
    *,
    id: int,
    seq: int,
    occurred_at: datetime,
    actor_user_id: int | None,
    actor_label: str,
    action: str,
    subject_type: str | None,
    subject_id: str | None,
) -> str:
    """The fields the chain covers, in one canonical string.

    The row id is among them: the details row and every reference to an entry (a redaction
    record, a checkpoint) name it, so moving an entry to another id breaks its hash.
    """
    return canonical_json(
        {
            "id": id,
            "seq": seq,
            "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_user_id": actor_user_id,
            "actor_label": actor_label,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
        }
    )


def entry_header(row: Any) -> str:
    """The canonical header of a stored entry (a row or an AuditEntry), as its hash covers it."""
    return canonical_header(
        id=row.id,
        seq=row.seq,
        occurred_at=row.occurred_at,
        actor_user_id=row.actor_user_id,
        actor_label=row.actor_label,
        action=row.action,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
    )


def chain_hash(prev_hash: str, header: str, digest: str) -> str:
    """Hash = sha256(prev_hash ‖ canonical header ‖ details_digest), as DESIGN.md states."""
    payload = "\n".join((prev_hash, header, digest)).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()


def _actor_fields(actor: Any) -> tuple[int | None, str]:
    if actor is None:
        return None, "system"
    if isinstance(actor, str):
        return None, actor
    return actor.id, actor.email


def _subject_fields(session: Session, subject: Any) -> tuple[str | None, str | None]:
    if subject is None:
        return None, None
    if isinstance(subject, tuple):
        kind, ident = subject
        return kind, None if ident is None else str(ident)
    if getattr(subject, "id", None) is None:
        session.flush()
    return subject.__tablename__, str(subject.id)


def _lock_chain(session: Session) -> tuple[int, str, int]:
    """Serialise appends until the commit; returns the head (last seq and hash) and last id.

    Ids are handed out here, under the lock, rather than by the database: the entry hash
    covers its id, so the id must be known before the row is written.

    PostgreSQL: a transaction-level advisory lock, then the head row (made on the first
    append). SQLite: writing the head row first takes the database's write lock, so the head
    is read under it.
    """
    head = select(AuditChainHead.seq, AuditChainHead.entry_hash).where(AuditChainHead.id == 1)
    genesis = {"id": 1, "seq": 0, "entry_hash": GENESIS_HASH}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
        found = session.execute(head).one_or_none()
        if found is None:
            session.execute(postgresql.insert(AuditChainHead).values(**genesis))
    else:
        session.execute(
            sqlite.insert(AuditChainHead)
            .values(**genesis)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        found = session.execute(head).one()
    last_id = session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0)))
    if found is None:
        return 0, GENESIS_HASH, last_id
    return found.seq, found.entry_hash, last_id


@dataclass(frozen=True)
class PendingEntry:
    """One entry for :func:`record_many`: who did what to which subject, with details."""

    actor: User | str | None
    action: AuditAction
    subject: Any = None
    details: dict[str, Any] | None = None


def record(
    session: Session,
    actor: User | str | None,
    action: AuditAction,
    subject: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's transaction; flushes, never commits.

    `actor` is a User, a label such as ``"device:SN123"`` or ``"system:purge"``, or None for the
    system. `subject` is a mapped object or a ``(kind, id)`` pair. Never put data that the
    public view may not show in the header; details may be redacted later.
    """
    return record_many(session, [PendingEntry(actor, action, subject, details)])[0]


def record_many(session: Session, pending: Sequence[PendingEntry]) -> list[AuditEntry]:
    """Append several entries in order under one lock: the same chain, fewer round trips.

    Used where one action yields many entries at once (an ingest batch's hits), so the hot
    path takes the chain's lock and reads its head once.
    """
    prepared = []
    for item in pending:
        if not isinstance(item.action, AuditAction):
            raise AuditError(f"unknown audit action {item.action!r}")
        details_text = canonical_json(item.details or {})
        prepared.append(
            (
                *_actor_fields(item.actor),
                item.action.value,
                *_subject_fields(session, item.subject),
                details_text,
                details_digest(details_text),
            )
        )
    if not prepared:
        return []
    seq, prev_hash, entry_id = _lock_chain(session)
    entries: list[AuditEntry] = []
    for actor_user_id, actor_label, action, subject_type, subject_id, text_, digest in prepared:
        seq += 1
        entry_id += 1
        header_fields = {
            "id": entry_id,
            "seq": seq,
            "occurred_at": utcnow(),
            "actor_user_id": actor_user_id,
            "actor_label": actor_label,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
        }
        entry = AuditEntry(
            **header_fields,
            details_digest=digest,
            prev_hash=prev_hash,
            entry_hash=chain_hash(prev_hash, canonical_header(**header_fields), digest),
        )
        entry.detail = AuditDetail(details_json=text_)
        entries.append(entry)
        prev_hash = entry.entry_hash
    session.add_all(entries)
    session.flush()
    session.execute(
        update(AuditChainHead).where(AuditChainHead.id == 1).values(seq=seq, entry_hash=prev_hash)
    )
    return entries


def redact_many(session: Session, actor: Any, entry_ids: Sequence[int], reason: str) -> None:
    """Blank the details of several entries at once, with ONE entry recording the redaction.

    The purge uses it for the entries that name a plate of the reads it destroys; that record
    lists the entries (`verify` accounts for each), never the blanked content.
    """
    reason = (reason or "").strip()
    if not reason:
        raise AuditError("a redaction needs a stated reason")
    if not entry_ids:
        return
    ids = sorted(set(entry_ids))
    now = utcnow()
    for detail in session.scalars(select(AuditDetail).where(AuditDetail.entry_id.in_(ids))):
        if detail.redacted_at is None:
            detail.details_json = None
            detail.redacted_at = now
            detail.redacted_reason = reason
    record(
        session, actor, AuditAction.AUDIT_DETAILS_REDACTED, None, {"reason": reason, "entries": ids}
    )


@dataclass(frozen=True)
class VerifyResult:
    """What `verify` found: ok, how many entries, and the first bad one with why."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    reason: str | None = None

    def describe(self) -> str:
        """One line for the CLI and the pages, naming the first bad entry."""
        if self.ok:
            return f"audit chain intact: {self.entries} entries verified"
        return (
            f"audit chain BROKEN at entry id={self.first_bad_id} seq={self.first_bad_seq}: "
            f"{self.reason} ({self.entries} entries checked before it)"
        )


def _stream(session: Session) -> Iterator[Any]:
    stmt = (
        select(
            AuditEntry.id,
            AuditEntry.seq,
            AuditEntry.occurred_at,
            AuditEntry.actor_user_id,
            AuditEntry.actor_label,
            AuditEntry.action,
            AuditEntry.subject_type,
            AuditEntry.subject_id,
            AuditEntry.details_digest,
            AuditEntry.prev_hash,
            AuditEntry.entry_hash,
            AuditDetail.details_json,
            AuditDetail.redacted_at,
            AuditDetail.redacted_reason,
        )
        .outerjoin(AuditDetail, AuditDetail.entry_id == AuditEntry.id)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=5000)
    )
    yield from session.execute(stmt)


def _entry_problem(row: Any, expected_seq: int, prev_hash: str) -> str | None:
    """Why this entry breaks the chain, or None when it holds."""
    if row.seq != expected_seq:
        return f"sequence gap: expected seq {expected_seq}, found {row.seq}"
    if row.prev_hash != prev_hash:
        return "prev_hash does not match the previous entry's hash"
    if chain_hash(prev_hash, entry_header(row), row.details_digest) != row.entry_hash:
        return "entry hash does not match its contents"
    if row.redacted_at is not None:
        if row.details_json is not None:
            return "marked redacted but still holds details"
        if not (row.redacted_reason or "").strip():
            return "marked redacted without a stated reason"
        return None
    if row.details_json is None:
        return "details missing without a redaction record"
    if details_digest(row.details_json) != row.details_digest:
        return "details do not match their digest"
    return None


@dataclass
class _Redactions:
    """Redacted entries met so far that no later entry has yet recorded the redaction of.

    A redaction is only proven by a later, chain-covered `audit.details_redacted` entry whose
    subject names the redacted entry and whose reason (unless itself redacted) is the one the
    entry shows; otherwise anyone with database access could blank or rewrite details.
    """

    waiting: dict[str, Any] = field(default_factory=dict)
    mismatched: set[str] = field(default_factory=set)

    def see(self, row: Any) -> None:
        """Note a redacted entry, or settle the ones that this redaction entry records.

        A redaction entry lists the entries it covers in its details (:func:`redact_many`), or
        names a single one as its subject.
        """
        if row.redacted_at is not None:
            self.waiting[str(row.id)] = row
        if row.action != AuditAction.AUDIT_DETAILS_REDACTED.value:
            return
        details = json.loads(row.details_json) if row.details_json else {}
        named = [str(i) for i in details.get("entries", [])]
        if row.subject_type == "audit_entry" and row.subject_id is not None:
            named.append(row.subject_id)
        recorded = details.get("reason")
        for key in named:
            target = self.waiting.get(key)
            if target is None:
                continue
            if recorded is None or recorded == target.redacted_reason:
                del self.waiting[key]
                self.mismatched.discard(key)
            else:
                self.mismatched.add(key)

    def first_unrecorded(self) -> VerifyResult | None:
        """The lowest redacted entry left unaccounted for once the chain is walked."""
        if not self.waiting:
            return None
        key, row = min(self.waiting.items(), key=lambda item: item[1].seq)
        reason = (
            "redaction reason differs from the entry that recorded the redaction"
            if key in self.mismatched
            else "marked redacted but no later entry records the redaction"
        )
        # The chain held up to here, so seq - 1 entries precede this one.
        return VerifyResult(False, row.seq - 1, row.seq, row.id, reason)


def verify(session: Session) -> VerifyResult:
    """Walk the chain in order and name the first entry that does not hold.

    A broken link or head is named first: past it later entries (and the redaction records
    among them) cannot be trusted, so an unrecorded redaction before it is not yet proven bad.
    """
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    last_id: int | None = None
    redactions = _Redactions()
    for row in _stream(session):
        problem = _entry_problem(row, expected_seq, prev_hash)
        if problem is not None:
            return VerifyResult(False, checked, row.seq, row.id, problem)
        redactions.see(row)
        prev_hash, expected_seq, last_id = row.entry_hash, row.seq + 1, row.id
        checked += 1
    head = session.execute(
        select(AuditChainHead.seq, AuditChainHead.entry_hash).where(AuditChainHead.id == 1)
    ).one_or_none()
    if head is None and checked:
        return VerifyResult(
            False,
            checked,
            checked,
            last_id,
            "the chain head is missing: entries after the last one checked may have been "
            "removed with it",
        )
    if head is not None and (head.seq != checked or head.entry_hash != prev_hash):
        return VerifyResult(
            False,
            checked,
            head.seq,
            last_id,
            f"chain head says seq {head.seq} but the chain ends at seq {checked}: "
            "entries after it were removed or the head was altered",
        )
    return redactions.first_unrecorded() or VerifyResult(True, checked)


def verify_and_record(session: Session, actor: Any) -> VerifyResult:
    """Verify, then record the outcome as an entry so staff can see when it last ran."""
    result = verify(session)
    record(
        session,
        actor,
        AuditAction.AUDIT_VERIFIED,
        None,
        {
            "ok": result.ok,
            "entries": result.entries,
            "first_bad_seq": result.first_bad_seq,
            "first_bad_id": result.first_bad_id,
            "reason": result.reason,
        },
    )
    return result


def last_verification(session: Session) -> tuple[AuditEntry, dict[str, Any]] | None:
    """The newest recorded verification and its outcome, for the staff home page."""
    entry = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == AuditAction.AUDIT_VERIFIED.value)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    if entry is None:
        return None
    details = (
        json.loads(entry.detail.details_json) if entry.detail and entry.detail.details_json else {}
    )
    return entry, details
