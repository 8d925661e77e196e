"""agency data requests and releases (policy 425.7, Minn. Stat. § 13.824)

What the department records of an outside agency (``agency_profiles``: its kind, head and
designee), its users' one-time invitations (``agency_invitations``, the link stored as its
SHA-256), their written requests with the five items of 425.7(a) and the scope asked for
(``agency_requests`` with ``agency_request_plates`` and ``agency_request_devices``; a CHECK keeps
an approved, fulfilled or closed request from lacking its finding and named investigation),
the release packages built for approved requests (``release_packages``), and the mail owed to
agencies (``outbox_messages``). Downgrade drops the tables.

Revision ID: b3271075b586
Revises: 6f7ff5584bae
Create Date: 2026-12-05 00:21:14
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'b3271075b586'
down_revision: str | None = '6f7ff5584bae'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('agency_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_agency_invitations_invited_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agency_invitations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_agency_invitations_token_hash'))
    )
    with op.batch_alter_table('agency_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_invitations_user_id'), ['user_id'], unique=False)

    op.create_table('agency_profiles',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('head_name', sa.String(length=200), nullable=False),
    sa.Column('head_title', sa.String(length=200), nullable=True),
    sa.Column('designee_name', sa.String(length=200), nullable=True),
    sa.Column('designee_title', sa.String(length=200), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('law_enforcement', 'prosecutorial', 'other')", name=op.f('ck_agency_profiles_known_kind')),
    sa.CheckConstraint('designee_title IS NULL OR designee_name IS NOT NULL', name=op.f('ck_agency_profiles_designee_named')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_profiles_agency_id_agencies')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_agency_profiles_updated_by_id_users')),
    sa.PrimaryKeyConstraint('agency_id', name=op.f('pk_agency_profiles'))
    )
    op.create_table('agency_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=False),
    sa.Column('requester_name', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('factual_basis', sa.Text(), nullable=False),
    sa.Column('case_number', sa.String(length=64), nullable=False),
    sa.Column('authorised_by_name', sa.String(length=200), nullable=False),
    sa.Column('authorised_by_role', sa.String(length=16), nullable=False),
    sa.Column('letter_sha256', sa.String(length=64), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('min_lat', sa.Float(), nullable=True),
    sa.Column('max_lat', sa.Float(), nullable=True),
    sa.Column('min_lon', sa.Float(), nullable=True),
    sa.Column('max_lon', sa.Float(), nullable=True),
    sa.Column('submission_key', sa.String(length=64), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('question', sa.Text(), nullable=True),
    sa.Column('finding', sa.Text(), nullable=True),
    sa.Column('active_investigation', sa.String(length=300), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fulfilled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("authorised_by_role IN ('head', 'designee')", name=op.f('ck_agency_requests_known_authoriser')),
    sa.CheckConstraint("status IN ('submitted', 'under_review', 'needs_information', 'approved', 'denied', 'referred_to_records', 'withdrawn', 'fulfilled', 'closed')", name=op.f('ck_agency_requests_known_status')),
    sa.CheckConstraint("status NOT IN ('approved', 'fulfilled', 'closed') OR (finding IS NOT NULL AND active_investigation IS NOT NULL)", name=op.f('ck_agency_requests_approval_has_finding')),
    sa.CheckConstraint('(min_lat IS NULL AND max_lat IS NULL AND min_lon IS NULL AND max_lon IS NULL) OR (min_lat < max_lat AND min_lon < max_lon)', name=op.f('ck_agency_requests_area_whole')),
    sa.CheckConstraint('window_start < window_end', name=op.f('ck_agency_requests_window_ordered')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_requests_agency_id_agencies')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_agency_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['letter_sha256'], ['stored_documents.sha256'], name=op.f('fk_agency_requests_letter_sha256_stored_documents')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_agency_requests_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_requests')),
    sa.UniqueConstraint('submission_key', name=op.f('uq_agency_requests_submission_key'))
    )
    with op.batch_alter_table('agency_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_requests_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_agency_requests_status_submitted', ['status', 'submitted_at'], unique=False)

    op.create_table('agency_request_devices',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_agency_request_devices_device_id_devices')),
    sa.ForeignKeyConstraint(['request_id'], ['agency_requests.id'], name=op.f('fk_agency_request_devices_request_id_agency_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('request_id', 'device_id', name=op.f('pk_agency_request_devices'))
    )
    op.create_table('agency_request_plates',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('plate', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['agency_requests.id'], name=op.f('fk_agency_request_plates_request_id_agency_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('request_id', 'plate', name=op.f('pk_agency_request_plates'))
    )
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['agency_requests.id'], name=op.f('fk_outbox_messages_request_id_agency_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_request_id'), ['request_id'], unique=False)

    op.create_table('release_packages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('job_run_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('byte_size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('read_count', sa.Integer(), nullable=True),
    sa.Column('image_count', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('file_deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('built_at IS NULL OR (sha256 IS NOT NULL AND read_count IS NOT NULL AND expires_at IS NOT NULL AND file_name IS NOT NULL)', name=op.f('ck_release_packages_built_is_whole')),
    sa.ForeignKeyConstraint(['job_run_id'], ['job_runs.id'], name=op.f('fk_release_packages_job_run_id_job_runs')),
    sa.ForeignKeyConstraint(['request_id'], ['agency_requests.id'], name=op.f('fk_release_packages_request_id_agency_requests')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_release_packages_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release_packages'))
    )
    with op.batch_alter_table('release_packages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_release_packages_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_release_packages_request_id'), ['request_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('release_packages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_release_packages_request_id'))
        batch_op.drop_index(batch_op.f('ix_release_packages_expires_at'))

    op.drop_table('release_packages')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_request_id'))

    op.drop_table('outbox_messages')
    op.drop_table('agency_request_plates')
    op.drop_table('agency_request_devices')
    with op.batch_alter_table('agency_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_agency_requests_status_submitted')
        batch_op.drop_index(batch_op.f('ix_agency_requests_agency_id'))

    op.drop_table('agency_requests')
    op.drop_table('agency_profiles')
    with op.batch_alter_table('agency_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_invitations_user_id'))

    op.drop_table('agency_invitations')
