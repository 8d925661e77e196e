"""holds have a workflow status: 'placed' until released, then 'released' (final)

A hold's release is a workflow step like any other case type's, so its state is a stored
``status`` pinned by a ``known_status`` check, and a ``released_when`` check keeps it agreeing
with ``released_at`` (still the time of the release). Existing holds are backfilled from
``released_at``. Downgrade drops the column and its checks; ``released_at`` alone then says
again whether a hold was released.

Revision ID: 5d1e0c7a9b42
Revises: 876bb061dd9f
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "5d1e0c7a9b42"
down_revision: str | None = "876bb061dd9f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "holds"
KNOWN_STATUS = "ck_holds_known_status"
RELEASED_WHEN = "ck_holds_released_when"


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=True))
    op.execute(
        sa.text(
            f"UPDATE {TABLE} SET status = CASE WHEN released_at IS NULL "
            "THEN 'placed' ELSE 'released' END"
        )
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_check_constraint(op.f(KNOWN_STATUS), "status IN ('placed', 'released')")
        batch_op.create_check_constraint(
            op.f(RELEASED_WHEN),
            "(status = 'placed' AND released_at IS NULL) "
            "OR (status = 'released' AND released_at IS NOT NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(RELEASED_WHEN), type_="check")
        batch_op.drop_constraint(op.f(KNOWN_STATUS), type_="check")
        batch_op.drop_column("status")
