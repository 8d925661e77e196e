"""exculpatory requests can be declined (425.5(a)): status 'declined' and the stated reason

The request's hold is now in force from receipt (received or active), so a request that does
not qualify (e.g. the requester is not the subject of a criminal investigation) is declined by
the Deputy Chief or designee, with a reason, instead of holding its data forever. Adds the
`decline_reason` column, 'declined' to the known statuses, and a check that a declined request
carries its reason. No data changes: existing requests keep their statuses.

On SQLite the table is rebuilt (batch mode; migrations run with foreign keys off and env.py
checks them afterwards, so the holds referring to these requests stay valid). On PostgreSQL
the constraints are dropped and added in place.

Downgrade refuses while a declined request exists: the old schema cannot record the decline,
and turning it back into 'received' would bring its hold back or let it be activated.

Revision ID: 9ba9f464a777
Revises: a2ec4191d7d2
Create Date: 2026-12-01 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '9ba9f464a777'
down_revision: str | None = 'a2ec4191d7d2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = 'exculpatory_requests'
KNOWN_STATUS = 'ck_exculpatory_requests_known_status'
DECLINE_NEEDS_REASON = 'ck_exculpatory_requests_decline_needs_reason'
OLD_STATUSES = "status IN ('received', 'active', 'released')"
NEW_STATUSES = "status IN ('received', 'active', 'released', 'declined')"


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column('decline_reason', sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f(KNOWN_STATUS), type_='check')
        batch_op.create_check_constraint(op.f(KNOWN_STATUS), NEW_STATUSES)
        batch_op.create_check_constraint(
            op.f(DECLINE_NEEDS_REASON), "status <> 'declined' OR decline_reason IS NOT NULL"
        )


def downgrade() -> None:
    declined = op.get_bind().execute(
        sa.text(f"SELECT count(*) FROM {TABLE} WHERE status = 'declined'")
    ).scalar_one()
    if declined:
        raise RuntimeError(
            f"{declined} exculpatory request(s) are declined; the schema before revision "
            f"{revision} cannot record a decline. Downgrade refused: nothing was changed."
        )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(DECLINE_NEEDS_REASON), type_='check')
        batch_op.drop_constraint(op.f(KNOWN_STATUS), type_='check')
        batch_op.create_check_constraint(op.f(KNOWN_STATUS), OLD_STATUSES)
        batch_op.drop_column('decline_reason')
