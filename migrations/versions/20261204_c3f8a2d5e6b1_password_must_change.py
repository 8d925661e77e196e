"""users may be asked to change a password someone else set, at their next sign-in

A temporary password set by the Deputy Chief, the designee or an administrator, and the
password of an account made by the CLI or the demo seed outside development, is changed by
its owner before anything else is reachable. Existing accounts are not asked.

Revision ID: c3f8a2d5e6b1
Revises: b7e2c4a91d30
Create Date: 2026-12-04 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "c3f8a2d5e6b1"
down_revision: str | None = "b7e2c4a91d30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "password_must_change", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_must_change")
