"""job runs count their work: done of total

``job_runs.done`` and ``job_runs.total``: how many items (reads packaged, reads destroyed) a
run has done out of how many, committed by the job as it goes, for the progress bar its page
polls. ``total`` is empty until the job knows it. Existing rows start at 0 done. Downgrade
drops both columns.

Revision ID: c7d2e9a4f1b3
Revises: b3271075b586
Create Date: 2026-12-10 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'c7d2e9a4f1b3'
down_revision: str | None = 'b3271075b586'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('done', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('total', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_column('total')
        batch_op.drop_column('done')
