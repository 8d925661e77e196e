"""audit entries chained by a sequencer after commit

An action's transaction now writes its audit entry without the link (seq, prev_hash and
entry_hash empty, "unchained") and the sequencer chains committed entries in batches under the
chain's lock (app/audit/services.py): seq, prev_hash and entry_hash become nullable, all three
empty or all three set; a partial index finds the unchained entries. Ids were handed out by the
append under its lock; the database hands them out now, so PostgreSQL's id sequence is moved
past the highest id. Existing entries and their hashes are untouched (the hash still covers id
and seq). Downgrade refuses while any entry is unchained: chain them first
(`flask --app wsgi audit sequence`).

Revision ID: 5e9c0d4a7b21
Revises: 6b29fbcf4f2a
Create Date: 2026-12-05 03:23:44.423320
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '5e9c0d4a7b21'
down_revision: str | None = '6b29fbcf4f2a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNCHAINED = "seq IS NULL"
LINKED_WHOLE = (
    "(seq IS NULL AND prev_hash IS NULL AND entry_hash IS NULL)"
    " OR (seq IS NOT NULL AND prev_hash IS NOT NULL AND entry_hash IS NOT NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.BIGINT(), nullable=True)
        batch_op.alter_column('prev_hash', existing_type=sa.VARCHAR(length=64), nullable=True)
        batch_op.alter_column('entry_hash', existing_type=sa.VARCHAR(length=64), nullable=True)
        batch_op.create_check_constraint('linked_whole', LINKED_WHOLE)
        batch_op.create_index(
            'ix_audit_entries_unchained',
            ['id'],
            unique=False,
            postgresql_where=sa.text(UNCHAINED),
            sqlite_where=sa.text(UNCHAINED),
        )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "SELECT setval(pg_get_serial_sequence('audit_entries', 'id'), "
            "COALESCE((SELECT max(id) FROM audit_entries), 0) + 1, false)"
        )


def downgrade() -> None:
    waiting = op.get_bind().scalar(sa.text(f"SELECT count(*) FROM audit_entries WHERE {UNCHAINED}"))
    if waiting:
        raise RuntimeError(
            f"{waiting} audit entries are not chained yet: run `flask --app wsgi audit sequence` "
            "before downgrading"
        )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_unchained')
        batch_op.drop_constraint('linked_whole', type_='check')
        batch_op.alter_column('entry_hash', existing_type=sa.VARCHAR(length=64), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.VARCHAR(length=64), nullable=False)
        batch_op.alter_column('seq', existing_type=sa.BIGINT(), nullable=False)
