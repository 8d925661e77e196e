"""The tamper-evident audit trail (policy 425.6(e), Minn. Stat. § 13.824 subd. 7)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base

GENESIS_HASH = "0" * 64


#: An entry the sequencer has not chained yet: it has no seq, prev_hash or entry_hash.
UNCHAINED = "seq IS NULL"


class AuditEntry(Base):
    """One link of the chain; `entry_hash` covers the header and the details' digest only.

    An entry is written by its action's transaction without its link (seq, prev_hash and
    entry_hash empty) and chained by the sequencer (:mod:`app.audit.services`) once committed.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint(
            "(seq IS NULL AND prev_hash IS NULL AND entry_hash IS NULL)"
            " OR (seq IS NOT NULL AND prev_hash IS NOT NULL AND entry_hash IS NOT NULL)",
            name="linked_whole",
        ),
        # One object's history (a hit's page; the entries of reads being destroyed).
        Index("ix_audit_entries_subject", "subject_type", "subject_id"),
        # What the sequencer takes next, oldest id first; empty nearly always, so tiny.
        Index(
            "ix_audit_entries_unchained",
            "id",
            postgresql_where=text(UNCHAINED),
            sqlite_where=text(UNCHAINED),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime]
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    details_digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    # Not unique-indexed: no query looks an entry up by its hash, and verify recomputes each.
    entry_hash: Mapped[str | None] = mapped_column(String(64))

    detail: Mapped[AuditDetail | None] = relationship(
        back_populates="entry", uselist=False, lazy="joined"
    )


#: Chain order, for reading the trail oldest first: entries not chained yet come last, by id.
CHAIN_ORDER = (AuditEntry.seq.asc().nulls_last(), AuditEntry.id.asc())
#: The same, newest first: entries not chained yet (the newest) come first.
NEWEST_FIRST = (AuditEntry.seq.desc().nulls_first(), AuditEntry.id.desc())


class AuditDetail(Base):
    """Details live beside the chain so they can be redacted without breaking it."""

    __tablename__ = "audit_details"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("audit_entries.id", ondelete="CASCADE"), primary_key=True
    )
    details_json: Mapped[str | None] = mapped_column(Text)
    redacted_at: Mapped[datetime | None]
    redacted_reason: Mapped[str | None] = mapped_column(Text)

    entry: Mapped[AuditEntry] = relationship(back_populates="detail")


class AuditChainHead(Base):
    """The single row naming the chain's last link: the sequencer moves it, verify checks it."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed statement of the chain's length and head hash at one moment.

    Stored so the public pages can show them; the proof is the signature, made with a key
    that is not in the database, so a copy saved by anyone outlives a rewrite of this table.
    """

    __tablename__ = "audit_checkpoints"
    __table_args__ = (CheckConstraint("seq >= 0", name="seq_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime]
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
