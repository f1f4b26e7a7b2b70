"""usage events carry what detection reads: the path's tenant ids, the client address, the scope

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 16:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Nullable, no default: adding them rewrites no row on PostgreSQL, however large the table.
DETECTION_COLUMNS = (
    ("debtor_id", 64),
    ("company_id", 64),
    ("employee_id", 64),
    ("client_ip", 45),
    ("scope", 64),
)


def upgrade() -> None:
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        for name, length in DETECTION_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        for name, _length in reversed(DETECTION_COLUMNS):
            batch_op.drop_column(name)
