"""audit entry_hash without its unique index

Every audited action inserts an audit entry and the sequencer rewrites it with its link, and
each index on `audit_entries` is written both times. No query looks an entry up by its hash
(checkpoints pin a seq; verify walks by seq and recomputes every hash), and two links with the
same hash would take a SHA-256 collision: the unique index on `entry_hash` protected nothing
the chain does not and cost every append. The other indexes serve queries (the trail's
filters, a subject's history, the purge's redactions, the sequencer's partial index) and stay.

Revision ID: a3c8e5f0b914
Revises: 5e9c0d4a7b21
Create Date: 2026-12-05 07:15:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = 'a3c8e5f0b914'
down_revision: str | None = '5e9c0d4a7b21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_entries_entry_hash', type_='unique')


def downgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_audit_entries_entry_hash', ['entry_hash'])
