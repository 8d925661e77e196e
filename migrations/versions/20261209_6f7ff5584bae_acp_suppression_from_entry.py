"""ACP and exculpatory requests: suppression from entry, written requests, protected searches

Policy 425.5(b) suppresses a participant's data from the entry of the written request:
``acp_suppressed_reads`` names the reads already collected that a request keeps out of use until
its existing data is destroyed. Either written request (425.5(a)/(b)) may be shown by the
reference of its paper original on file (``paper_original``) instead of a scan. An ACP request
may be declined (``declined``, with its ``decline_reason``) before its existing data is
destroyed. A search of a protected plate keeps the request (``protected_request_id``) and the
plate's keyed digest (``followed_plate_hmac``) instead of the plate. Downgrade removes them
(a declined ACP request cannot be kept: downgrading refuses while one exists).

Revision ID: 6f7ff5584bae
Revises: e4a7c2b9f513
Create Date: 2026-12-09 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "6f7ff5584bae"
down_revision: str | None = "e4a7c2b9f513"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KNOWN_STATUS = "ck_acp_requests_known_status"
DECLINE_NEEDS_REASON = "ck_acp_requests_decline_needs_reason"
STATUSES = ("received", "verified", "existing_destroyed", "suppression_active", "ended")
PROTECTED_FK = "fk_searches_protected_request_id_acp_requests"


def _statuses(*extra: str) -> str:
    return "status IN ({})".format(", ".join(f"'{s}'" for s in (*STATUSES, *extra)))


def upgrade() -> None:
    with op.batch_alter_table("acp_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paper_original", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("decline_reason", sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f(KNOWN_STATUS), type_="check")
        batch_op.create_check_constraint(op.f(KNOWN_STATUS), _statuses("declined"))
        batch_op.create_check_constraint(
            op.f(DECLINE_NEEDS_REASON), "status <> 'declined' OR decline_reason IS NOT NULL"
        )
    with op.batch_alter_table("exculpatory_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paper_original", sa.String(length=200), nullable=True))
    with op.batch_alter_table("searches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("followed_plate_hmac", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("protected_request_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f(PROTECTED_FK), "acp_requests", ["protected_request_id"], ["id"]
        )
        batch_op.create_index(
            "ix_searches_followed_plate_hmac", ["followed_plate_hmac", "created_at"], unique=False
        )
    op.create_table(
        "acp_suppressed_reads",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "read_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("read_captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["acp_requests.id"],
            name=op.f("fk_acp_suppressed_reads_request_id_acp_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "read_id", name=op.f("pk_acp_suppressed_reads")),
    )
    op.create_index(
        "ix_acp_suppressed_reads_read",
        "acp_suppressed_reads",
        ["read_id", "read_captured_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_acp_suppressed_reads_read", table_name="acp_suppressed_reads")
    op.drop_table("acp_suppressed_reads")
    with op.batch_alter_table("searches", schema=None) as batch_op:
        batch_op.drop_index("ix_searches_followed_plate_hmac")
        batch_op.drop_constraint(op.f(PROTECTED_FK), type_="foreignkey")
        batch_op.drop_column("protected_request_id")
        batch_op.drop_column("followed_plate_hmac")
    with op.batch_alter_table("exculpatory_requests", schema=None) as batch_op:
        batch_op.drop_column("paper_original")
    with op.batch_alter_table("acp_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(DECLINE_NEEDS_REASON), type_="check")
        batch_op.drop_constraint(op.f(KNOWN_STATUS), type_="check")
        batch_op.create_check_constraint(op.f(KNOWN_STATUS), _statuses())
        batch_op.drop_column("decline_reason")
        batch_op.drop_column("paper_original")
