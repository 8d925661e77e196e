"""an index of the reads waiting for OCR

Staff see the reads still waiting for OCR, oldest first, and the administrator's home page
counts them (app.alpr.pending_ocr): a partial index on ``received_at`` of the few reads in
``pending_ocr`` keeps both from scanning millions of reads. On PostgreSQL the index is made on
every day partition (and on each new one as it is attached). Downgrade drops it.

Revision ID: 6b29fbcf4f2a
Revises: c7d2e9a4f1b3
Create Date: 2026-12-10 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '6b29fbcf4f2a'
down_revision: str | None = 'c7d2e9a4f1b3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "plate_status = 'pending_ocr'"


def upgrade() -> None:
    op.create_index('ix_reads_pending_ocr', 'reads', ['received_at'],
                    postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))


def downgrade() -> None:
    op.drop_index('ix_reads_pending_ocr', table_name='reads')
