"""hit verification outcomes (425.4(f)); the reads each search showed (425.6(b), 425.6(e))

Hits: a verification now records the MNJIS/NLETS query's reference and time
(``verification_reference``, ``verified_at``), and its outcome is one of two states:
'not_valid' (verified, the alert is wrong: enforcement is refused) or 'impracticable'
(verification not practicable: enforcement allowed with the stated reason, which a check
requires). The old 'not_confirmed' mixed both. Existing hits migrate by what they recorded: a
new or not-confirmed hit that carries an enforcement action's impracticable reason was acted on
unverified, so it becomes 'impracticable'; any other not-confirmed hit was a verification that
did not confirm the alert, so it becomes 'not_valid'. Hits verified before have no reference
or time (both stay empty).

``search_shown_reads`` keeps which reads each search's result pages showed: a read opens in a
search's context only if that search showed it. No foreign key to ``reads`` (day partitions
are dropped whole by the purge; a left-over id names nothing).

On SQLite ``hits`` is rebuilt (batch mode); on PostgreSQL the constraints change in place.
Downgrade maps 'not_valid' back to 'not_confirmed' and 'impracticable' to 'new' (the old
schema kept the reason on a new hit), and drops the references and times: the audit entries
of the verifications keep them.

Revision ID: 28241fb9ade9
Revises: e4a7c2b9d156
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "28241fb9ade9"
down_revision: str | None = "e4a7c2b9d156"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "hits"
KNOWN_STATUS = "ck_hits_known_status"
NEEDS_REASON = "ck_hits_impracticable_needs_reason"
OLD_STATUSES = "status IN ('new', 'confirmed', 'not_confirmed', 'closed')"
NEW_STATUSES = "status IN ('new', 'confirmed', 'not_valid', 'impracticable', 'closed')"


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column("verification_reference", sa.String(length=100)))
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(timezone=True)))
        batch_op.drop_constraint(op.f(KNOWN_STATUS), type_="check")
    op.execute(
        sa.text(
            f"UPDATE {TABLE} SET status = 'impracticable' "
            "WHERE status IN ('new', 'not_confirmed') AND impracticable_reason IS NOT NULL"
        )
    )
    op.execute(sa.text(f"UPDATE {TABLE} SET status = 'not_valid' WHERE status = 'not_confirmed'"))
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_check_constraint(op.f(KNOWN_STATUS), NEW_STATUSES)
        batch_op.create_check_constraint(
            op.f(NEEDS_REASON), "status <> 'impracticable' OR impracticable_reason IS NOT NULL"
        )
    op.create_table(
        "search_shown_reads",
        sa.Column("search_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("read_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["search_id"],
            ["searches.id"],
            name=op.f("fk_search_shown_reads_search_id_searches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("search_id", "read_id", name=op.f("pk_search_shown_reads")),
    )


def downgrade() -> None:
    op.drop_table("search_shown_reads")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(NEEDS_REASON), type_="check")
        batch_op.drop_constraint(op.f(KNOWN_STATUS), type_="check")
    op.execute(sa.text(f"UPDATE {TABLE} SET status = 'not_confirmed' WHERE status = 'not_valid'"))
    op.execute(sa.text(f"UPDATE {TABLE} SET status = 'new' WHERE status = 'impracticable'"))
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_check_constraint(op.f(KNOWN_STATUS), OLD_STATUSES)
        batch_op.drop_column("verified_at")
        batch_op.drop_column("verification_reference")
