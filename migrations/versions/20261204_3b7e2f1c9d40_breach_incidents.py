"""breach incidents (policy 425.6(d), Minn. Stat. § 13.055)

One row per discovered breach of the security of data: what happened and to which data, and
the steps its workflow takes (investigation, notification of individuals, the report). The
status is pinned by a ``known_status`` check; the notification method, the count of
individuals and the report's date (not before the notice) by their own checks. The report
form's one-time ``submission_key`` is unique, so a form sent twice is one incident.
Downgrade drops the table.

Revision ID: 3b7e2f1c9d40
Revises: c3f8a2d5e6b1
Create Date: 2026-12-04 22:25:16
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '3b7e2f1c9d40'
down_revision: str | None = 'c3f8a2d5e6b1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('breach_incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('discovered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=4000), nullable=False),
    sa.Column('data_involved', sa.String(length=2000), nullable=False),
    sa.Column('unauthorised_person', sa.String(length=1000), nullable=True),
    sa.Column('submission_key', sa.String(length=64), nullable=True),
    sa.Column('investigation_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('individuals_notified', sa.Integer(), nullable=True),
    sa.Column('notified_on', sa.Date(), nullable=True),
    sa.Column('notification_method', sa.String(length=16), nullable=True),
    sa.Column('report_completed_on', sa.Date(), nullable=True),
    sa.Column('report_summary', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("notification_method IS NULL OR notification_method IN ('written', 'electronic', 'substitute')", name=op.f('ck_breach_incidents_known_method')),
    sa.CheckConstraint("status IN ('reported', 'investigating', 'individuals_notified', 'report_completed')", name=op.f('ck_breach_incidents_known_status')),
    sa.CheckConstraint('individuals_notified IS NULL OR individuals_notified > 0', name=op.f('ck_breach_incidents_notified_count')),
    sa.CheckConstraint('report_completed_on IS NULL OR notified_on IS NULL OR report_completed_on >= notified_on', name=op.f('ck_breach_incidents_report_after_notice')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_breach_incidents_reported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_breach_incidents')),
    sa.UniqueConstraint('submission_key', name=op.f('uq_breach_incidents_submission_key'))
    )


def downgrade() -> None:
    op.drop_table('breach_incidents')
