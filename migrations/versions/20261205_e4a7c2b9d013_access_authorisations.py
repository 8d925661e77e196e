"""written authorisations of access (policy 425.3, 425.4(e), Minn. Stat. § 13.824 subd. 7)

Adds `access_authorisations`: one row per grant or removal of department roles and per
training record, naming who authorised it in writing, the date and the document or its
reference, and who entered it. Adds the role 'confidential_data' (the authorisation to see
confidential state or federal data, 425.4(e)) to the known roles of `user_roles`; existing
accounts hold it only once the Deputy Chief or designee grants it.

On SQLite `user_roles` is rebuilt (batch mode); on PostgreSQL its check is replaced in place.

Downgrade refuses while an account holds 'confidential_data' (the old schema cannot record
it, and dropping it silently would change who sees what), then drops the table.

Revision ID: e4a7c2b9d013
Revises: e4a7c2b9d815
Create Date: 2026-12-05 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "e4a7c2b9d013"
down_revision: str | None = "e4a7c2b9d815"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KNOWN_ROLE = "ck_user_roles_known_role"
OLD_ROLES = (
    "role IN ('admin', 'deputy_chief', 'designee', 'operator', 'records', 'auditor', 'agency')"
)
NEW_ROLES = (
    "role IN ('admin', 'deputy_chief', 'designee', 'operator', 'records', 'auditor', 'agency', "
    "'confidential_data')"
)


def upgrade() -> None:
    with op.batch_alter_table("user_roles", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(KNOWN_ROLE), type_="check")
        batch_op.create_check_constraint(op.f(KNOWN_ROLE), NEW_ROLES)

    op.create_table(
        "access_authorisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("granted", sa.String(length=300), nullable=False),
        sa.Column("removed", sa.String(length=300), nullable=False),
        sa.Column("training_record_id", sa.Integer(), nullable=True),
        sa.Column("authorised_by", sa.String(length=200), nullable=False),
        sa.Column("authorised_on", sa.Date(), nullable=False),
        sa.Column("document", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "change IN ('roles', 'training')", name=op.f("ck_access_authorisations_known_change")
        ),
        sa.CheckConstraint(
            "change <> 'training' OR training_record_id IS NOT NULL",
            name=op.f("ck_access_authorisations_training_names_record"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_access_authorisations_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["training_record_id"],
            ["training_records.id"],
            name=op.f("fk_access_authorisations_training_record_id_training_records"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_access_authorisations_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_authorisations")),
    )
    with op.batch_alter_table("access_authorisations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_authorisations_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    holders = (
        op.get_bind()
        .execute(sa.text("SELECT count(*) FROM user_roles WHERE role = 'confidential_data'"))
        .scalar_one()
    )
    if holders:
        raise RuntimeError(
            f"{holders} account(s) hold 'confidential_data'; the schema before revision "
            f"{revision} cannot record it. Downgrade refused: nothing was changed."
        )
    with op.batch_alter_table("access_authorisations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_authorisations_user_id"))

    op.drop_table("access_authorisations")
    with op.batch_alter_table("user_roles", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(KNOWN_ROLE), type_="check")
        batch_op.create_check_constraint(op.f(KNOWN_ROLE), OLD_ROLES)
