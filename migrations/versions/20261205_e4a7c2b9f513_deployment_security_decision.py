"""who marked a fixed location as security information, when and why (§ 13.37 subd. 2)

The public list of fixed ALPR locations leaves out a deployment marked security information;
the mark now records the last decision on it: the deciding user, the time and the reason. A
marked deployment must carry a reason; rows marked before this revision get one saying so.
Downgrade drops the three columns and the check.

Revision ID: e4a7c2b9f513
Revises: 3119edf23dea
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "e4a7c2b9f513"
down_revision: str | None = "3119edf23dea"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("security_decided_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("security_decided_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("security_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_deployments_security_decided_by_id_users"),
            "users",
            ["security_decided_by_id"],
            ["id"],
        )
    op.execute(
        "UPDATE deployments SET security_reason = 'marked before reasons were recorded' "
        "WHERE security_information AND security_reason IS NULL"
    )
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.create_check_constraint(
            "security_needs_reason",
            "NOT security_information OR security_reason IS NOT NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_deployments_security_needs_reason"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_deployments_security_decided_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("security_reason")
        batch_op.drop_column("security_decided_at")
        batch_op.drop_column("security_decided_by_id")
