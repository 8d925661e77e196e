"""partition reads by collection day; pictures and hits refer to (read id, collection time)

On PostgreSQL `reads` becomes PARTITION BY RANGE (captured_at) with one partition per UTC day
(reads_pYYYYMMDD) and a DEFAULT partition, so the retention purge can drop a day past retention
instead of deleting it row by row (app.reads.partitions, app.retention.purge_days). Every unique
key of a partitioned table must hold the partition key: the primary key becomes
(id, captured_at), the client-id keys gain captured_at, and read_images and hits carry the
read's captured_at in a composite foreign key. Existing rows are copied across.

On SQLite the table stays plain; it gets the same keys (uq_reads_id_captured_at standing in for
PostgreSQL's primary key as the target of the composite foreign keys).

Revision ID: 7c1d5e0a9b42
Revises: 24ce9d26a85d
Create Date: 2026-12-01 08:10:00
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from alembic import op


revision: str = '7c1d5e0a9b42'
down_revision: str | None = '24ce9d26a85d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHILDREN = ('hits', 'read_images')
#: Partitions made now: the retention window behind today and this many days ahead.
DAYS_BEHIND = 60
DAYS_AHEAD = 14
READ_COLUMNS = (
    'id, device_id, source_agency_id, plate, captured_at, latitude, longitude, client_read_id, '
    'plate_status, ocr_confidence, ocr_candidates, active_use_period_id, acp_deferred_at, '
    'received_at'
)
#: Indexes of `reads` other than the unique keys that change here (same on both databases).
PLAIN_INDEXES = (
    ('ix_reads_acp_deferred_at', ['acp_deferred_at'], 'acp_deferred_at IS NOT NULL'),
    ('ix_reads_active_use_period_id', ['active_use_period_id'], None),
    ('ix_reads_captured_at', ['captured_at'], None),
    ('ix_reads_device_captured_at', ['device_id', 'captured_at'], None),
    ('ix_reads_source_agency_id', ['source_agency_id'], None),
)


def _where(clause: str | None) -> dict:
    return {} if clause is None else {
        'postgresql_where': sa.text(clause), 'sqlite_where': sa.text(clause)
    }


def _partial_unique_indexes(client_id_key: list[str]) -> None:
    op.create_index('ix_reads_plate_captured_at', 'reads', ['plate', 'captured_at'],
                    postgresql_ops={'plate': 'text_pattern_ops'})
    op.create_index('uq_reads_agency_client_read', 'reads', client_id_key, unique=True,
                    **_where('device_id IS NULL'))
    op.create_index('uq_reads_agency_plate_captured_at', 'reads',
                    ['source_agency_id', 'plate', 'captured_at'], unique=True,
                    **_where('device_id IS NULL AND client_read_id IS NULL'))
    op.create_index('uq_reads_device_plate_captured_at', 'reads',
                    ['device_id', 'plate', 'captured_at'], unique=True,
                    **_where('client_read_id IS NULL'))
    for name, columns, where in PLAIN_INDEXES:
        op.create_index(name, 'reads', columns, **_where(where))


def _create_reads(partitioned: bool, client_id_key: list[str]) -> None:
    """The reads table at this revision (partitioned on PostgreSQL when `partitioned`)."""
    pk = ['id', 'captured_at'] if partitioned else ['id']
    op.create_table(
        'reads',
        sa.Column('id', sa.BigInteger(), server_default=sa.text("nextval('reads_id_seq')"),
                  nullable=False),
        sa.Column('device_id', sa.Integer(), nullable=True),
        sa.Column('source_agency_id', sa.Integer(), nullable=True),
        sa.Column('plate', sa.String(length=16), nullable=True),
        sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('latitude', sa.Float(), nullable=False),
        sa.Column('longitude', sa.Float(), nullable=False),
        sa.Column('client_read_id', sa.String(length=64), nullable=True),
        sa.Column('plate_status', sa.String(length=16), nullable=False),
        sa.Column('ocr_confidence', sa.Float(), nullable=True),
        sa.Column('ocr_candidates', sa.Text(), nullable=True),
        sa.Column('active_use_period_id', sa.Integer(), nullable=True),
        sa.Column('acp_deferred_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("plate_status IN ('reported', 'pending_ocr', 'ocr_accepted', 'needs_review', 'confirmed', 'corrected', 'unreadable')", name=op.f('ck_reads_known_plate_status')),
        sa.CheckConstraint('device_id IS NOT NULL OR source_agency_id IS NOT NULL', name=op.f('ck_reads_has_provenance')),
        sa.CheckConstraint('latitude BETWEEN -90 AND 90', name=op.f('ck_reads_latitude_range')),
        sa.CheckConstraint('longitude BETWEEN -180 AND 180', name=op.f('ck_reads_longitude_range')),
        sa.ForeignKeyConstraint(['active_use_period_id'], ['active_use_periods.id'], name=op.f('fk_reads_active_use_period_id_active_use_periods'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_reads_device_id_devices')),
        sa.ForeignKeyConstraint(['source_agency_id'], ['agencies.id'], name=op.f('fk_reads_source_agency_id_agencies')),
        sa.PrimaryKeyConstraint(*pk, name=op.f('pk_reads')),
        sa.UniqueConstraint(*client_id_key, name='uq_reads_device_client_read'),
        postgresql_partition_by='RANGE (captured_at)' if partitioned else None,
    )
    _partial_unique_indexes(['source_agency_id', *client_id_key[1:]])


def _day_partition(day: date) -> None:
    start = datetime.combine(day, time(), tzinfo=UTC)
    op.execute(
        f'CREATE TABLE "reads_p{day:%Y%m%d}" PARTITION OF reads FOR VALUES FROM '
        f"('{start.isoformat()}') TO ('{(start + timedelta(days=1)).isoformat()}')"
    )


def _postgresql_upgrade() -> None:
    bind = op.get_bind()
    for child in CHILDREN:
        op.add_column(child, sa.Column('read_captured_at', sa.DateTime(timezone=True), nullable=True))
        op.execute(f'UPDATE {child} c SET read_captured_at = r.captured_at FROM reads r WHERE r.id = c.read_id')
        op.alter_column(child, 'read_captured_at', nullable=False)
        op.drop_constraint(f'fk_{child}_read_id_reads', child, type_='foreignkey')

    # The old table steps aside, giving up its index names and its id sequence.
    op.rename_table('reads', 'reads_unpartitioned')
    op.drop_constraint('pk_reads', 'reads_unpartitioned', type_='primary')
    op.drop_constraint('uq_reads_device_client_read', 'reads_unpartitioned', type_='unique')
    for name in ('ix_reads_plate_captured_at', 'uq_reads_agency_client_read',
                 'uq_reads_agency_plate_captured_at', 'uq_reads_device_plate_captured_at',
                 *(index for index, _, _ in PLAIN_INDEXES)):
        op.drop_index(name, table_name='reads_unpartitioned')
    op.execute('ALTER SEQUENCE reads_id_seq OWNED BY NONE')

    _create_reads(True, ['device_id', 'client_read_id', 'captured_at'])
    today = datetime.now(UTC).date()
    days = {today + timedelta(days=n) for n in range(-DAYS_BEHIND, DAYS_AHEAD + 1)}
    days |= set(bind.execute(sa.text(
        "SELECT DISTINCT (captured_at AT TIME ZONE 'UTC')::date FROM reads_unpartitioned"
    )).scalars())
    for day in sorted(days):
        _day_partition(day)
    op.execute('CREATE TABLE reads_default PARTITION OF reads DEFAULT')
    op.execute(f'INSERT INTO reads ({READ_COLUMNS}) SELECT {READ_COLUMNS} FROM reads_unpartitioned')
    op.drop_table('reads_unpartitioned')
    op.execute('ALTER SEQUENCE reads_id_seq OWNED BY reads.id')
    op.execute("SELECT setval('reads_id_seq', (SELECT COALESCE(max(id), 0) + 1 FROM reads), false)")

    for child in CHILDREN:
        op.create_foreign_key(f'fk_{child}_read_reads', child, 'reads',
                              ['read_id', 'read_captured_at'], ['id', 'captured_at'],
                              ondelete='CASCADE')
        op.create_index(f'ix_{child}_read_captured_at', child, ['read_captured_at'])
    op.execute('ANALYZE reads')


def _sqlite_upgrade() -> None:
    with op.batch_alter_table('reads') as batch_op:
        batch_op.drop_constraint('uq_reads_device_client_read', type_='unique')
        batch_op.create_unique_constraint('uq_reads_device_client_read', ['device_id', 'client_read_id', 'captured_at'])
        batch_op.create_unique_constraint('uq_reads_id_captured_at', ['id', 'captured_at'])
        batch_op.drop_index('uq_reads_agency_client_read')
        batch_op.create_index('uq_reads_agency_client_read', ['source_agency_id', 'client_read_id', 'captured_at'],
                              unique=True, **_where('device_id IS NULL'))
    for child in CHILDREN:
        op.add_column(child, sa.Column('read_captured_at', sa.DateTime(timezone=True), nullable=True))
        op.execute(f'UPDATE {child} SET read_captured_at = '
                   f'(SELECT captured_at FROM reads WHERE reads.id = {child}.read_id)')
        with op.batch_alter_table(child) as batch_op:
            batch_op.alter_column('read_captured_at', existing_type=sa.DateTime(timezone=True), nullable=False)
            batch_op.drop_constraint(f'fk_{child}_read_id_reads', type_='foreignkey')
            batch_op.create_foreign_key(f'fk_{child}_read_reads', 'reads',
                                        ['read_id', 'read_captured_at'], ['id', 'captured_at'],
                                        ondelete='CASCADE')
            batch_op.create_index(f'ix_{child}_read_captured_at', ['read_captured_at'])


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def _postgresql_downgrade() -> None:
    for child in CHILDREN:
        op.drop_index(f'ix_{child}_read_captured_at', table_name=child)
        op.drop_constraint(f'fk_{child}_read_reads', child, type_='foreignkey')
    op.rename_table('reads', 'reads_partitioned')
    op.drop_constraint('pk_reads', 'reads_partitioned', type_='primary')
    op.drop_constraint('uq_reads_device_client_read', 'reads_partitioned', type_='unique')
    for name in ('ix_reads_plate_captured_at', 'uq_reads_agency_client_read',
                 'uq_reads_agency_plate_captured_at', 'uq_reads_device_plate_captured_at',
                 *(index for index, _, _ in PLAIN_INDEXES)):
        op.drop_index(name, table_name='reads_partitioned')
    op.execute('ALTER SEQUENCE reads_id_seq OWNED BY NONE')
    _create_reads(False, ['device_id', 'client_read_id'])
    op.execute(f'INSERT INTO reads ({READ_COLUMNS}) SELECT {READ_COLUMNS} FROM reads_partitioned')
    op.execute('DROP TABLE reads_partitioned CASCADE')
    op.execute('ALTER SEQUENCE reads_id_seq OWNED BY reads.id')
    op.execute("SELECT setval('reads_id_seq', (SELECT COALESCE(max(id), 0) + 1 FROM reads), false)")
    for child in CHILDREN:
        op.create_foreign_key(f'fk_{child}_read_id_reads', child, 'reads', ['read_id'], ['id'],
                              ondelete='CASCADE')
        op.drop_column(child, 'read_captured_at')


def _sqlite_downgrade() -> None:
    for child in CHILDREN:
        with op.batch_alter_table(child) as batch_op:
            batch_op.drop_index(f'ix_{child}_read_captured_at')
            batch_op.drop_constraint(f'fk_{child}_read_reads', type_='foreignkey')
            batch_op.create_foreign_key(f'fk_{child}_read_id_reads', 'reads', ['read_id'], ['id'],
                                        ondelete='CASCADE')
            batch_op.drop_column('read_captured_at')
    with op.batch_alter_table('reads') as batch_op:
        batch_op.drop_index('uq_reads_agency_client_read')
        batch_op.create_index('uq_reads_agency_client_read', ['source_agency_id', 'client_read_id'],
                              unique=True, **_where('device_id IS NULL'))
        batch_op.drop_constraint('uq_reads_id_captured_at', type_='unique')
        batch_op.drop_constraint('uq_reads_device_client_read', type_='unique')
        batch_op.create_unique_constraint('uq_reads_device_client_read', ['device_id', 'client_read_id'])


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _postgresql_downgrade()
    else:
        _sqlite_downgrade()
