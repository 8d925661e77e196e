"""agency API tokens: an outside agency's system pushes the reads it shares
(POST /api/v1/agency-reads) with a token stored only as a SHA-256 digest

Revision ID: 9078e705a0e3
Revises: 9ba9f464a777
Create Date: 2026-12-01 08:09:02.164384
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '9078e705a0e3'
down_revision: str | None = '9ba9f464a777'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('api_token_hint', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('api_token_issued_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('api_token_revoked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_agencies_api_token_hash'), ['api_token_hash'])


def downgrade() -> None:
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_agencies_api_token_hash'), type_='unique')
        batch_op.drop_column('api_token_revoked_at')
        batch_op.drop_column('api_token_issued_at')
        batch_op.drop_column('api_token_hint')
        batch_op.drop_column('api_token_hash')
