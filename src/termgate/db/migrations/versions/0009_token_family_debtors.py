"""token families carry their own debtors: a later consent no longer rewrites an earlier grant

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 07:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("token_families", schema=None) as batch_op:
        batch_op.add_column(sa.Column("debtor_ids", sa.Text(), server_default="", nullable=False))
    # Until now a family's tokens carried its consent's debtors: that is what it was granted.
    op.execute(
        "UPDATE token_families SET debtor_ids = (SELECT consents.debtor_ids FROM consents "
        "WHERE consents.id = token_families.consent_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("token_families", schema=None) as batch_op:
        batch_op.drop_column("debtor_ids")
