"""audit checkpoints; the entry hash covers the row id

Adds ``audit_checkpoints`` (signed statements of the chain's length and head hash, the key
kept outside the database) and re-hashes the existing chain once so that every entry's hash
covers its row id as the code now computes it. The re-hash walks the chain in order and
recomputes each link from the stored fields, so a chain that verified before verifies after;
a checkpoint saved before this upgrade no longer matches (none were published before it).
The hashing is written out here, frozen as of this revision, so that later changes to the
application's code cannot change what this migration did. Downgrade drops the table and
re-hashes without the id.

Revision ID: e41f7a2c8b93
Revises: 3b7e2f1c9d40
Create Date: 2026-12-05 01:10:00
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


revision: str = 'e41f7a2c8b93'
down_revision: str | None = '3b7e2f1c9d40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rehash(with_id: bool) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, seq, occurred_at, actor_user_id, actor_label, action, subject_type, "
        "subject_id, details_digest FROM audit_entries ORDER BY seq"
    )).all()
    prev_hash = GENESIS_HASH
    for row in rows:
        header = {
            "seq": row.seq,
            "occurred_at": _aware(row.occurred_at).isoformat(timespec="microseconds"),
            "actor_user_id": row.actor_user_id,
            "actor_label": row.actor_label,
            "action": row.action,
            "subject_type": row.subject_type,
            "subject_id": row.subject_id,
        }
        if with_id:
            header["id"] = row.id
        text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        entry_hash = hashlib.sha256(
            "\n".join((prev_hash, text, row.details_digest)).encode("utf-8")
        ).hexdigest()
        bind.execute(
            sa.text("UPDATE audit_entries SET prev_hash = :p, entry_hash = :h WHERE id = :i"),
            {"p": prev_hash, "h": entry_hash, "i": row.id},
        )
        prev_hash = entry_hash
    if rows:
        bind.execute(
            sa.text("UPDATE audit_chain_head SET entry_hash = :h WHERE id = 1"), {"h": prev_hash}
        )


def upgrade() -> None:
    op.create_table('audit_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.CheckConstraint('seq >= 0', name=op.f('ck_audit_checkpoints_seq_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints'))
    )
    with op.batch_alter_table('audit_checkpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_checkpoints_seq'), ['seq'], unique=False)
    _rehash(with_id=True)


def downgrade() -> None:
    _rehash(with_id=False)
    with op.batch_alter_table('audit_checkpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_checkpoints_seq'))
    op.drop_table('audit_checkpoints')
