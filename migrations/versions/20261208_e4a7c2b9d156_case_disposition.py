"""a closed investigation awaits the disposition of its held data (policy 425.5)

Closing a case no longer releases its holds: the case is 'closed' (awaiting the Deputy Chief's
or designee's disposition) until they release its held data to the 60-day rule ('released') or
keep it under a records-retention schedule category until an end date ('retained'). Adds the
`schedule_category` and `retain_until` columns, the two statuses to the known ones, and a check
that a retained case names its category and end date.

Cases closed before this revision had their holds released at the close, so they become
'released': nothing they held is kept again.

Downgrade refuses while a case awaits its disposition or is retained: the old schema would
count its holds as ended and the purge would destroy what they keep. Otherwise 'released'
cases become 'closed' again and the columns go.

Revision ID: e4a7c2b9d156
Revises: e4a7c2b9d013
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'e4a7c2b9d156'
down_revision: str | None = 'e4a7c2b9d013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = 'investigations'
KNOWN_STATUS = 'ck_investigations_known_status'
RETAINED_UNDER_SCHEDULE = 'ck_investigations_retained_under_schedule'
OLD_STATUSES = "status IN ('active', 'closed')"
NEW_STATUSES = "status IN ('active', 'closed', 'released', 'retained')"


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule_category', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('retain_until', sa.Date(), nullable=True))
        batch_op.drop_constraint(op.f(KNOWN_STATUS), type_='check')
        batch_op.create_check_constraint(op.f(KNOWN_STATUS), NEW_STATUSES)
        batch_op.create_check_constraint(
            op.f(RETAINED_UNDER_SCHEDULE),
            "status <> 'retained' OR (schedule_category IS NOT NULL AND retain_until IS NOT NULL)",
        )
    op.execute(sa.text(f"UPDATE {TABLE} SET status = 'released' WHERE status = 'closed'"))


def downgrade() -> None:
    waiting = op.get_bind().execute(
        sa.text(f"SELECT count(*) FROM {TABLE} WHERE status IN ('closed', 'retained')")
    ).scalar_one()
    if waiting:
        raise RuntimeError(
            f"{waiting} closed investigation(s) await their disposition or are kept under the "
            f"records-retention schedule; the schema before revision {revision} would end their "
            "holds. Downgrade refused: nothing was changed."
        )
    op.execute(sa.text(f"UPDATE {TABLE} SET status = 'closed' WHERE status = 'released'"))
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(RETAINED_UNDER_SCHEDULE), type_='check')
        batch_op.drop_constraint(op.f(KNOWN_STATUS), type_='check')
        batch_op.create_check_constraint(op.f(KNOWN_STATUS), OLD_STATUSES)
        batch_op.drop_column('retain_until')
        batch_op.drop_column('schedule_category')
