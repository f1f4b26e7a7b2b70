"""declared data access: how an application says it reads data (on demand, a scheduled sync,
periodic reports), which the harvest detector compares with its reads (clauses 3.2, 3.3 d)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 20:15:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data_access", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("data_access")
