"""job runs count their recoveries

``job_runs.attempts``: how many times the recovery sweep has put a run back on the queue (a
job that never reached Redis, or whose worker was killed); past the last attempt the run is
failed and audited. Existing rows start at 0. Downgrade drops the column.

Revision ID: f5a9c3e1d2b7
Revises: e41f7a2c8b93
Create Date: 2026-12-05 00:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'f5a9c3e1d2b7'
down_revision: str | None = 'e41f7a2c8b93'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_column('attempts')
