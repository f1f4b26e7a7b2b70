"""administrator roles: viewer, operator, owner; disabled accounts; token expiry and last use

Existing administrators become owners: they could do everything before.

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-29 13:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = sa.Enum("viewer", "operator", "owner", name="adminrole", native_enum=False, length=16)


def upgrade() -> None:
    with op.batch_alter_table("administrators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", ROLE, server_default="owner", nullable=False))
        batch_op.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("admin_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of `administrators` would drop
    # the table that `admin_tokens` refers to, which the foreign keys refuse.
    for table, column in (
        ("admin_tokens", "last_used_at"),
        ("admin_tokens", "expires_at"),
        ("administrators", "disabled_at"),
        ("administrators", "role"),
    ):
        op.drop_column(table, column)
