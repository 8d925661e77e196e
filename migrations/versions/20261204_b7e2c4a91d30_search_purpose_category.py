"""searches record their purpose category (425.3) and the one plate they followed

The search form now takes the purpose from the official uses of policy 425.3 besides the free
text; searches recorded before keep no category (the column is empty for them, and the check
allows only the known values otherwise). ``followed_plate`` lets the tracking guard add up
the windows of every search of one plate over its look-back, whoever ran them.

Revision ID: b7e2c4a91d30
Revises: 5d1e0c7a9b42
Create Date: 2026-12-04 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "b7e2c4a91d30"
down_revision: str | None = "5d1e0c7a9b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATEGORIES = (
    "stolen_or_wanted_vehicle",
    "stolen_plate",
    "missing_person",
    "warrant",
    "homeland_security",
    "electronic_surveillance",
    "suspect_interdiction",
    "stolen_property_recovery",
    "criminal_investigation",
    "civil_or_administrative",
)
KNOWN = "ck_searches_known_purpose_category"


def upgrade() -> None:
    known = ", ".join(f"'{value}'" for value in CATEGORIES)
    with op.batch_alter_table("searches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purpose_category", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("followed_plate", sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(
            op.f(KNOWN), f"purpose_category IS NULL OR purpose_category IN ({known})"
        )
        batch_op.create_index(
            "ix_searches_followed_plate", ["followed_plate", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("searches", schema=None) as batch_op:
        batch_op.drop_index("ix_searches_followed_plate")
        batch_op.drop_constraint(op.f(KNOWN), type_="check")
        batch_op.drop_column("followed_plate")
        batch_op.drop_column("purpose_category")
