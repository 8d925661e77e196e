"""camera adapters: a device's vendor format and date order, and its discard counters

``devices.camera_format`` names the payload a camera posts to ``/api/v1/cameras/<format>``
(NULL: the JSON API only) and ``devices.date_order`` how it writes dates (Genetec); both are
pinned by checks. ``camera_discards`` counts, per device and field name, how often a camera sent
something the adapter threw away (never the value). Downgrade drops them.

Revision ID: 3119edf23dea
Revises: 28241fb9ade9
Create Date: 2026-12-05 00:34:46
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "3119edf23dea"
down_revision: str | None = "28241fb9ade9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FORMATS = ("openalpr", "platerecognizer", "axis", "genetec", "verkada")
DATE_ORDERS = ("MDY", "DMY", "YMD")


def _values(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def upgrade() -> None:
    op.create_table(
        "camera_discards",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=80), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("last_discarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_camera_discards_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("device_id", "field", name=op.f("pk_camera_discards")),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("camera_format", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("date_order", sa.String(length=3), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_devices_known_camera_format"),
            f"camera_format IS NULL OR camera_format IN ({_values(FORMATS)})",
        )
        batch_op.create_check_constraint(
            op.f("ck_devices_known_date_order"),
            f"date_order IS NULL OR date_order IN ({_values(DATE_ORDERS)})",
        )


def downgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_devices_known_date_order"), type_="check")
        batch_op.drop_constraint(op.f("ck_devices_known_camera_format"), type_="check")
        batch_op.drop_column("date_order")
        batch_op.drop_column("camera_format")
    op.drop_table("camera_discards")
