"""BCA notices (policy 425.4.1(d), Minn. Stat. § 13.824 subd. 8)

One row per notice owed to the Bureau of Criminal Apprehension: a device's installation, its
first use, each fixed location (deployment). ``event_key`` is unique, so an event opens one
notice however often the facts are looked at. Status, event and sending method are pinned by
checks, as are the facts a sent or acknowledged notice must carry and the order of its dates.
The kept letter is a stored document. Existing devices get their notices from the daily job
(``flag_overdue_bca_notices``), not from this migration. Downgrade drops the table.

Revision ID: e4a7c2b9d815
Revises: f5a9c3e1d2b7
Create Date: 2026-12-05 00:21:24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'e4a7c2b9d815'
down_revision: str | None = 'f5a9c3e1d2b7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bca_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('event_key', sa.String(length=40), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=True),
    sa.Column('event_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sent_on', sa.Date(), nullable=True),
    sa.Column('sent_method', sa.String(length=16), nullable=True),
    sa.Column('sent_to', sa.String(length=200), nullable=True),
    sa.Column('sent_reference', sa.String(length=120), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('letter_sha256', sa.String(length=64), nullable=True),
    sa.Column('acknowledged_on', sa.Date(), nullable=True),
    sa.Column('acknowledgement_note', sa.String(length=1000), nullable=True),
    sa.Column('overdue_flagged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(event = 'fixed_location') = (deployment_id IS NOT NULL)", name=op.f('ck_bca_notices_location_has_deployment')),
    sa.CheckConstraint("event IN ('installation', 'first_use', 'fixed_location')", name=op.f('ck_bca_notices_known_event')),
    sa.CheckConstraint("sent_method IS NULL OR sent_method IN ('email', 'mail', 'fax', 'portal')", name=op.f('ck_bca_notices_known_method')),
    sa.CheckConstraint("status <> 'acknowledged' OR acknowledged_on IS NOT NULL", name=op.f('ck_bca_notices_acknowledged_dated')),
    sa.CheckConstraint("status = 'open' OR (sent_on IS NOT NULL AND sent_method IS NOT NULL AND sent_to IS NOT NULL)", name=op.f('ck_bca_notices_sent_has_facts')),
    sa.CheckConstraint("status IN ('open', 'sent', 'acknowledged')", name=op.f('ck_bca_notices_known_status')),
    sa.CheckConstraint('acknowledged_on IS NULL OR acknowledged_on >= sent_on', name=op.f('ck_bca_notices_acknowledged_after_sent')),
    sa.CheckConstraint('due_on > event_on', name=op.f('ck_bca_notices_due_after_event')),
    sa.CheckConstraint('sent_on IS NULL OR sent_on >= event_on', name=op.f('ck_bca_notices_sent_after_event')),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployments.id'], name=op.f('fk_bca_notices_deployment_id_deployments')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_bca_notices_device_id_devices')),
    sa.ForeignKeyConstraint(['letter_sha256'], ['stored_documents.sha256'], name=op.f('fk_bca_notices_letter_sha256_stored_documents')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_bca_notices_sent_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bca_notices')),
    sa.UniqueConstraint('event_key', name=op.f('uq_bca_notices_event_key'))
    )
    with op.batch_alter_table('bca_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bca_notices_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bca_notices_due_on'), ['due_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('bca_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bca_notices_due_on'))
        batch_op.drop_index(batch_op.f('ix_bca_notices_device_id'))

    op.drop_table('bca_notices')
