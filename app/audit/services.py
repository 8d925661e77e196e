"""The one place that appends to, chains, redacts and verifies the hash chain.

Appending and chaining are two steps, as in the transparency logs (Trillian queues entries and
one sequencer integrates them in batches; Tessera batches appends):

1. :func:`record` writes the entry inside the action's own transaction, without its link: the
   action and its entry commit or roll back together, and no writer waits for another. The id
   comes from the database; seq, prev_hash and entry_hash stay empty ("unchained").
2. The sequencer takes the chain's lock (a PostgreSQL advisory transaction lock; on SQLite the
   write lock), reads the head and links the unchained entries it sees, lowest id first: the
   next seq, the previous hash, the entry's hash (covering its id and seq), then moves the head.

Why the order is final: seq is given when an entry is chained, never before, and a chained
entry is never chained again (the update only touches entries still unchained). An entry
committed after a sequencer's snapshot gets a later seq from the next run even when its id is
lower: seq, not id, is the chain's order, and ids need not rise with seq. Within one run ids
order the entries, which keeps a transaction's entries in the order it wrote them; an entry
written after reading another committed one (a redaction's record) has a higher id than it.
A snapshot never shows a transaction without those it saw committed, so the chain never puts
an effect before its cause.

When it runs: on SQLite, which has one writer at a time, inside :func:`record` (the write lock
is held already), so every commit leaves its entries chained. On PostgreSQL right after each
commit that recorded entries, on the committing connection (:func:`_pg_chain_after_commit`): it
tries the lock without waiting; a writer that finds it taken leaves its entries to the holder
(one round trip), who looks for unchained entries after releasing the lock and goes round again
when it finds any (up to SEQUENCE_ROUNDS), so what was committed meanwhile is not left behind.
That costs each commit a round trip or four; a busy installation runs one sequencer process
instead (`ALPR_AUDIT_SEQUENCER=process`, `flask --app wsgi audit sequence --follow`, as
Trillian does), and commits do nothing more. A scheduled job each minute and
`flask --app wsgi audit sequence` chain whatever a killed process left. Everything that
reads the chain whole (verification, checkpoints, exports) chains what is waiting first;
pages show an entry still waiting as "pending".

What stays promised: an action and its entry commit together; `verify` covers every chained
entry and counts the unchained ones, and fails when one has waited longer than
UNCHAINED_ALARM, as do `audit sequence` (exit 1) and the staff home page (/readyz reports the
count). Until it is chained an entry is protected as any committed row is, not by the hash:
the alarm bounds that window.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.audit.actions import AuditAction
from app.audit.models import GENESIS_HASH, NEWEST_FIRST, AuditChainHead, AuditDetail, AuditEntry
from app.db import utcnow

if TYPE_CHECKING:
    from app.auth.models import User

logger = logging.getLogger(__name__)

#: Arbitrary constant naming the audit chain's advisory lock on PostgreSQL.
AUDIT_LOCK_KEY = 425_006_005
#: Entries one sequencer transaction chains at most, so the lock is held briefly.
SEQUENCE_BATCH = 2000
#: Batches the sequencer run after a commit chains at most before leaving the rest to others.
SEQUENCE_ROUNDS = 8
#: An entry unchained for longer than this means the sequencer is not running: the alarm.
UNCHAINED_ALARM = timedelta(minutes=2)
#: Key in ``session.info`` of the entries the session's open transaction recorded.
_RECORDED = "audit_recorded"
#: Key in ``session.info`` of the (psycopg) connection that transaction ran on.
_RECORDED_ON = "audit_recorded_on"
#: Key in ``session.info``: False where one sequencer process chains (`ALPR_AUDIT_SEQUENCER`).
AFTER_COMMIT = "audit_after_commit"


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


def entry_header(row: Any, seq: int | None = None) -> str:
    """The canonical header of a stored entry (a row or an AuditEntry), as its hash covers it.

    The sequencer passes the `seq` it is giving an entry that has none yet.
    """
    return canonical_header(
        id=row.id,
        seq=row.seq if seq is None else seq,
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


def _lock_sqlite(db: Connection | Session) -> None:
    """SQLite's sequencer lock: writing the head row (made on the first run) takes the write lock.

    The head is then read under it; SQLite has one writer at a time, so nothing waits long.
    PostgreSQL's sequencer takes an advisory transaction lock instead (:func:`_pg_round`).
    """
    db.execute(
        sqlite.insert(_HEAD)
        .values(id=1, seq=0, entry_hash=GENESIS_HASH)
        .on_conflict_do_nothing(index_elements=["id"])
    )


_ENTRIES = AuditEntry.__table__
_DETAILS = AuditDetail.__table__
_HEAD = AuditChainHead.__table__
_INSERT_ENTRIES = insert(_ENTRIES).returning(_ENTRIES.c.id, sort_by_parameter_order=True)
#: The columns an action's transaction writes (the link stays empty for the sequencer).
_WRITTEN = (
    "occurred_at",
    "actor_user_id",
    "actor_label",
    "action",
    "subject_type",
    "subject_id",
    "details_digest",
)
_ONE_ENTRY = (
    insert(_ENTRIES)
    .values({name: bindparam(name) for name in _WRITTEN})
    .returning(_ENTRIES.c.id)
    .cte("entry")
)
#: PostgreSQL: one entry and its details in ONE statement (a round trip less for every action).
_INSERT_ONE = (
    insert(_DETAILS)
    .from_select(
        ["entry_id", "details_json"],
        select(_ONE_ENTRY.c.id, bindparam("details_json", type_=_DETAILS.c.details_json.type)),
    )
    .returning(_DETAILS.c.entry_id)
)
_UNCHAINED = (
    select(
        _ENTRIES.c.id,
        _ENTRIES.c.occurred_at,
        _ENTRIES.c.actor_user_id,
        _ENTRIES.c.actor_label,
        _ENTRIES.c.action,
        _ENTRIES.c.subject_type,
        _ENTRIES.c.subject_id,
        _ENTRIES.c.details_digest,
    )
    .where(_ENTRIES.c.seq.is_(None))
    .order_by(_ENTRIES.c.id)
    .limit(bindparam("b_limit"))
)
_LINK = (
    update(_ENTRIES)
    .where(_ENTRIES.c.id == bindparam("b_id"), _ENTRIES.c.seq.is_(None))
    .values(seq=bindparam("b_seq"), prev_hash=bindparam("b_prev"), entry_hash=bindparam("b_hash"))
)


def _head(db: Connection | Session) -> tuple[int, str]:
    """The chain's last seq and hash, read under the lock."""
    found = db.execute(select(_HEAD.c.seq, _HEAD.c.entry_hash).where(_HEAD.c.id == 1)).one()
    return found.seq, found.entry_hash


def _link_batch(db: Connection | Session, limit: int) -> list[dict[str, Any]]:
    """Chain up to `limit` unchained entries, lowest id first, after the head; move the head.

    The caller holds the lock. The hash is computed from the stored fields, as `verify` reads
    them back. Returns the links given (id, seq, previous hash, hash).
    """
    rows = db.execute(_UNCHAINED, {"b_limit": limit}).all()
    if not rows:
        return []
    links = _links(rows, *_head(db))
    linked = db.execute(_LINK, links).rowcount
    if linked != len(links):
        # Only a second sequencer could have chained them: the lock was not held. Roll back.
        raise AuditError(f"chained {linked} of {len(links)} entries: the chain lock was not held")
    last = links[-1]
    db.execute(
        update(_HEAD).where(_HEAD.c.id == 1).values(seq=last["b_seq"], entry_hash=last["b_hash"])
    )
    return links


def _links(rows: Sequence[Any], seq: int, prev_hash: str) -> list[dict[str, Any]]:
    """The links of `rows` (unchained entries in chain order) after the head (seq, hash)."""
    links = []
    for row in rows:
        seq += 1
        entry_hash = chain_hash(prev_hash, entry_header(row, seq), row.details_digest)
        links.append({"b_id": row.id, "b_seq": seq, "b_prev": prev_hash, "b_hash": entry_hash})
        prev_hash = entry_hash
    return links


#: The PostgreSQL sequencer's statements, sent through psycopg's pipeline (module notes).
_PG_TRY_LOCK = "SELECT pg_try_advisory_xact_lock(%s)"
_PG_LOCK = "SELECT pg_advisory_xact_lock(%s)"
_PG_UNCHAINED = (
    "SELECT id, occurred_at, actor_user_id, actor_label, action, subject_type, subject_id, "
    "details_digest FROM audit_entries WHERE seq IS NULL ORDER BY id LIMIT %s"
)
_PG_HEAD = "SELECT seq, entry_hash FROM audit_chain_head WHERE id = 1"
_PG_GENESIS = "INSERT INTO audit_chain_head (id, seq, entry_hash) VALUES (1, 0, %s)"
_PG_LINK = (
    "UPDATE audit_entries SET seq = %(b_seq)s, prev_hash = %(b_prev)s, entry_hash = %(b_hash)s "
    "WHERE id = %(b_id)s AND seq IS NULL"
)
_PG_MOVE_HEAD = "UPDATE audit_chain_head SET seq = %s, entry_hash = %s WHERE id = 1 AND seq = %s"


def _pg_round(pg: Any, *, wait: bool) -> int | None:
    """One sequencer round on PostgreSQL in two round trips; None when the lock is taken.

    The lock, the unchained entries and the head go in one pipeline (run in that order, so
    the entries and the head are read after the lock is held); the links, the head's move and
    the commit in a second. The head moves only from the seq it was read at.
    """
    with pg.cursor() as lock, pg.cursor() as found, pg.cursor() as head:
        with pg.pipeline():
            lock.execute(_PG_LOCK if wait else _PG_TRY_LOCK, (AUDIT_LOCK_KEY,))
            found.execute(_PG_UNCHAINED, (SEQUENCE_BATCH,))
            head.execute(_PG_HEAD)
        if not wait and not lock.fetchone()[0]:
            pg.rollback()
            return None
        rows = [_PgRow(*row) for row in found.fetchall()]
        current = head.fetchone()
        if not rows:
            pg.commit()
            return 0
        seq, prev_hash = current if current is not None else (0, GENESIS_HASH)
        links = _links(rows, seq, prev_hash)
        with pg.pipeline():
            if current is None:
                lock.execute(_PG_GENESIS, (GENESIS_HASH,))
            found.executemany(_PG_LINK, links)
            head.execute(_PG_MOVE_HEAD, (links[-1]["b_seq"], links[-1]["b_hash"], seq))
        if head.rowcount != 1:
            pg.rollback()
            raise AuditError("the chain head moved during a sequencer round: the lock was not held")
        pg.commit()
        return len(links)


_PG_TRY_SESSION_LOCK = "SELECT pg_try_advisory_lock(%s)"
_PG_UNLOCK = "SELECT pg_advisory_unlock(%s)"
_PG_ANY_UNCHAINED = "SELECT EXISTS (SELECT 1 FROM audit_entries WHERE seq IS NULL)"
# The head's move fails (division by zero) when the head is not at the seq it was read at, so
# that the implicit transaction it closes, links included, rolls back instead of committing.
_PG_MOVE_HEAD_OR_FAIL = (
    "WITH moved AS (UPDATE audit_chain_head SET seq = %s, entry_hash = %s "
    "WHERE id = 1 AND seq = %s RETURNING 1) SELECT 1 / count(*) FROM moved"
)


def _pg_chain_after_commit(pg: Any, rounds: int) -> int:
    """The sequencer run after a commit, on the committing connection (idle again); how many.

    The costs are what each audited action pays, so the run is counted in round trips (its
    connection is in autocommit; a pipeline up to its Sync is one implicit transaction):
    1. try the chain's lock as a session lock: when another run holds it, that is all (one
       round trip): the holder looks again after releasing it, below, so it sees this commit;
    2. read the unchained entries and the head, under the lock;
    3. the links and the head's move: committed together at the Sync, or rolled back together;
    4. release the lock, then look for unchained entries (a separate statement, so its snapshot
       follows the release): any means a writer committed and found the lock taken meanwhile,
       and this run goes round again (up to `rounds`; the scheduled job takes any rest).
    A failure that may leave the lock held closes the connection, which releases it.
    """
    chained = 0
    pg.autocommit = True
    try:
        for _ in range(rounds):
            if not pg.execute(_PG_TRY_SESSION_LOCK, (AUDIT_LOCK_KEY,)).fetchone()[0]:
                break
            try:
                chained += _pg_link_held(pg)
            finally:
                waiting = _pg_release(pg)
            if not waiting:
                break
    finally:
        if not pg.closed:
            pg.autocommit = False
    return chained


def _pg_link_held(pg: Any) -> int:
    """Chain one batch while this connection holds the session lock (steps 2 and 3 above)."""
    with pg.cursor() as found, pg.cursor() as head:
        with pg.pipeline():
            found.execute(_PG_UNCHAINED, (SEQUENCE_BATCH,))
            head.execute(_PG_HEAD)
        rows = [_PgRow(*row) for row in found.fetchall()]
        current = head.fetchone()
        if not rows:
            return 0
        seq, prev_hash = current if current is not None else (0, GENESIS_HASH)
        links = _links(rows, seq, prev_hash)
        try:
            with pg.pipeline():
                if current is None:
                    head.execute(_PG_GENESIS, (GENESIS_HASH,))
                found.executemany(_PG_LINK, links)
                head.execute(_PG_MOVE_HEAD_OR_FAIL, (links[-1]["b_seq"], links[-1]["b_hash"], seq))
        except psycopg.errors.DivisionByZero:
            raise AuditError(
                "the chain head moved during a sequencer round: the lock was not held"
            ) from None
        return len(links)


def _pg_release(pg: Any) -> bool:
    """Release the session lock, then say whether entries wait (step 4 above)."""
    try:
        with pg.cursor() as unlock, pg.cursor() as look:
            with pg.pipeline():
                unlock.execute(_PG_UNLOCK, (AUDIT_LOCK_KEY,))
                look.execute(_PG_ANY_UNCHAINED)
            if not unlock.fetchone()[0]:
                # The statements reached another server connection: a pooler in transaction
                # mode, which this run cannot work behind (README).
                raise AuditError("the chain's session lock was not held by this connection")
            return bool(look.fetchone()[0])
    except Exception:
        pg.close()
        raise


@dataclass(frozen=True)
class _PgRow:
    id: int
    occurred_at: datetime
    actor_user_id: int | None
    actor_label: str
    action: str
    subject_type: str | None
    subject_id: str | None
    details_digest: str


def _chain_inline(session: Session) -> int:
    """SQLite: chain what the session sees unchained, in its transaction (it has the write lock).

    The session's own entries get their links in memory too.
    """
    _lock_sqlite(session)
    chained = 0
    while links := _link_batch(session, SEQUENCE_BATCH):
        chained += len(links)
        for link in links:
            entry = session.identity_map.get(session.identity_key(AuditEntry, link["b_id"]))
            if entry is not None:
                set_committed_value(entry, "seq", link["b_seq"])
                set_committed_value(entry, "prev_hash", link["b_prev"])
                set_committed_value(entry, "entry_hash", link["b_hash"])
    return chained


def sequence(engine: Engine, *, wait: bool = True, rounds: int | None = None) -> int:
    """The sequencer: chain what is unchained in short transactions of its own; how many.

    Each round takes the lock, chains up to SEQUENCE_BATCH entries and commits. It goes on
    while a round found work (entries committed meanwhile, whose writers found the lock taken
    and left them to this run) and `rounds` allows. Without `wait` it returns at once when
    another sequencer holds the lock: that one looks again after releasing it.
    """
    chained, done = 0, 0
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            while rounds is None or done < rounds:
                linked = _pg_round(raw.driver_connection, wait=wait)
                if linked is None:
                    break
                chained += linked
                done += 1
                if not linked:
                    break
        finally:
            raw.close()
        return chained
    with engine.connect() as conn:
        while rounds is None or done < rounds:
            _lock_sqlite(conn)
            linked = len(_link_batch(conn, SEQUENCE_BATCH))
            conn.commit()
            chained += linked
            done += 1
            if not linked:
                break
    return chained


def bring_up_to_date(session: Session) -> int:
    """Chain what is unchained before the chain is read whole (verify, export, checkpoint).

    PostgreSQL: the sequencer in its own transaction, waiting for the lock, so that the caller
    does not hold it. SQLite: in the caller's transaction, which already holds the write lock
    (another connection would wait for it).
    """
    if session.get_bind().dialect.name == "postgresql":
        return sequence(session.get_bind().engine)
    return _chain_inline(session)


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
    """Write one entry inside the caller's transaction; flushes, never commits.

    `actor` is a User, a label such as ``"device:SN123"`` or ``"system:purge"``, or None for the
    system. `subject` is a mapped object or a ``(kind, id)`` pair. Never put data that the
    public view may not show in the header; details may be redacted later.
    """
    return record_many(session, [PendingEntry(actor, action, subject, details)])[0]


def record_many(session: Session, pending: Sequence[PendingEntry]) -> list[AuditEntry]:
    """Write several entries in order: they keep that order in the chain (ids rise).

    Used where one action yields many entries at once (an ingest batch's hits). The session's
    pending changes are flushed first, then the entries and their details go in two INSERTs
    (not the unit of work: this is every action's path, and it was three quarters of its
    cost); the returned entries are in the session as loaded. They are chained at once on
    SQLite, after the commit on PostgreSQL (module notes).
    """
    rows: list[dict[str, Any]] = []
    texts: list[str] = []
    for item in pending:
        if not isinstance(item.action, AuditAction):
            raise AuditError(f"unknown audit action {item.action!r}")
        actor_user_id, actor_label = _actor_fields(item.actor)
        subject_type, subject_id = _subject_fields(session, item.subject)
        details_text = canonical_json(item.details or {})
        texts.append(details_text)
        rows.append(
            {
                "occurred_at": utcnow(),
                "actor_user_id": actor_user_id,
                "actor_label": actor_label,
                "action": item.action.value,
                "subject_type": subject_type,
                "subject_id": subject_id,
                "details_digest": details_digest(details_text),
            }
        )
    if not rows:
        return []
    session.flush()
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql and len(rows) == 1:
        ids = [session.scalars(_INSERT_ONE, {**rows[0], "details_json": texts[0]}).one()]
    else:
        ids = session.scalars(_INSERT_ENTRIES, rows).all()
        session.execute(
            insert(_DETAILS),
            [{"entry_id": i, "details_json": t} for i, t in zip(ids, texts, strict=True)],
        )
    entries = []
    for entry_id, row in zip(ids, rows, strict=True):
        entry = AuditEntry(id=entry_id, seq=None, prev_hash=None, entry_hash=None, **row)
        make_transient_to_detached(entry)
        session.add(entry)
        entries.append(entry)
    if not postgresql:
        _chain_inline(session)
    elif session.info.get(AFTER_COMMIT, True):
        session.info.setdefault(_RECORDED, []).extend(entries)
        session.info[_RECORDED_ON] = session.connection().connection.driver_connection
    return entries


@event.listens_for(Session, "after_commit")
def _sequence_after_commit(session: Session) -> None:
    """Chain what this commit recorded now, unless another sequencer is at work (it will).

    The action is committed whatever happens here: a failure leaves its entries to the next
    run (the scheduled job at the latest) and is logged, never raised to the caller.
    """
    if session.in_nested_transaction():
        return
    recorded = session.info.pop(_RECORDED, None)
    pg = session.info.pop(_RECORDED_ON, None)
    if not recorded:
        return
    try:
        if pg is not None and pg.info.transaction_status == TransactionStatus.IDLE:
            _pg_chain_after_commit(pg, SEQUENCE_ROUNDS)
        else:  # a session inside an outer transaction: its connection is not free
            sequence(session.get_bind().engine, wait=False, rounds=SEQUENCE_ROUNDS)
    except Exception:  # driver or chain errors alike: the commit stands, the next run chains
        logger.warning("audit sequencer failed after a commit; the next run chains", exc_info=True)
    for entry in recorded:
        if inspect(entry).persistent:
            session.expire(entry, ["seq", "prev_hash", "entry_hash"])


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ends without the commit above (rolled back) recorded nothing."""
    if transaction.parent is None:
        session.info.pop(_RECORDED, None)
        session.info.pop(_RECORDED_ON, None)


@dataclass(frozen=True)
class Unchained:
    """Entries not chained yet: how many, and how many for longer than the alarm's bound."""

    count: int
    overdue: int
    oldest_id: int | None

    def alarm(self) -> str | None:
        """The alarm's line when an entry waited too long, else None."""
        if not self.overdue:
            return None
        return (
            f"{self.overdue} audit entries unchained for more than "
            f"{int(UNCHAINED_ALARM.total_seconds())} s (first id={self.oldest_id}): the "
            "sequencer is not running; run `flask --app wsgi audit sequence`"
        )


def unchained(session: Session) -> Unchained:
    """Count the entries waiting for the sequencer (the partial index keeps this cheap)."""
    overdue_before = utcnow() - UNCHAINED_ALARM
    count, overdue, oldest_id = session.execute(
        select(
            func.count(AuditEntry.id),
            func.count(AuditEntry.id).filter(AuditEntry.occurred_at < overdue_before),
            func.min(AuditEntry.id),
        ).where(AuditEntry.seq.is_(None))
    ).one()
    return Unchained(count, overdue, oldest_id)


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
    unchained: int = 0

    def describe(self) -> str:
        """One line for the CLI and the pages, naming the first bad entry."""
        if self.ok:
            waiting = f"; {self.unchained} newer not chained yet" if self.unchained else ""
            return f"audit chain intact: {self.entries} entries verified{waiting}"
        seq = self.first_bad_seq if self.first_bad_seq is not None else "none (unchained)"
        return (
            f"audit chain BROKEN at entry id={self.first_bad_id} seq={seq}: "
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
        .where(AuditEntry.seq.is_not(None))
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
    Entries not chained yet are counted; one waiting past UNCHAINED_ALARM fails the check (an
    entry taken out of the chain to look unchained leaves a gap or a wrong head, named above).
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
    unrecorded = redactions.first_unrecorded()
    if unrecorded is not None:
        return unrecorded
    waiting = unchained(session)
    alarm = waiting.alarm()
    if alarm is not None:
        return VerifyResult(False, checked, None, waiting.oldest_id, alarm, waiting.count)
    return VerifyResult(True, checked, unchained=waiting.count)


def verify_and_record(session: Session, actor: Any) -> VerifyResult:
    """Chain what waits, verify, then record the outcome so staff can see when it last ran."""
    bring_up_to_date(session)
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
            "unchained": result.unchained,
        },
    )
    return result


def last_verification(session: Session) -> tuple[AuditEntry, dict[str, Any]] | None:
    """The newest recorded verification and its outcome, for the staff home page."""
    entry = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == AuditAction.AUDIT_VERIFIED.value)
        .order_by(*NEWEST_FIRST)
        .limit(1)
    ).first()
    if entry is None:
        return None
    details = (
        json.loads(entry.detail.details_json) if entry.detail and entry.detail.details_json else {}
    )
    return entry, details
