"""the daily usage summary the quota seed and the announcements read whole days from

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 00:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GROUP = "key_id, application_id, developer_id, method, operation, status, code"
# The days of the hourly summary already stored (which holds exactly the stored events' sums),
# as the usage writer would have added them.
BACKFILL = """
INSERT INTO usage_daily (day, {group}, requests, bytes_in, bytes_out, latency_ms)
SELECT {day} AS day, {group}, sum(requests), sum(bytes_in), sum(bytes_out), sum(latency_ms)
FROM usage_hourly
GROUP BY {day}, {group}
"""
DAY = {
    "postgresql": "date_trunc('day', hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    "sqlite": "substr(hour, 1, 10) || ' 00:00:00.000000'",
}


def upgrade() -> None:
    op.create_table(
        "usage_daily",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.String(length=32), nullable=False),
        sa.Column("developer_id", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("operation", sa.String(length=200), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("bytes_in", sa.BigInteger(), nullable=False),
        sa.Column("bytes_out", sa.BigInteger(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_daily")),
        sa.UniqueConstraint(
            "day",
            "key_id",
            "application_id",
            "developer_id",
            "method",
            "operation",
            "status",
            "code",
            name="uq_usage_daily_group",
        ),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # Each row is added to by every batch of its day: room on its page for the new version
        # (a HOT update, which touches no index).
        op.execute("ALTER TABLE usage_daily SET (fillfactor = 50)")
    op.execute(BACKFILL.format(group=GROUP, day=DAY[dialect]))
    # Built after the backfill: faster than maintained row by row.
    op.create_index("ix_usage_daily_key_day", "usage_daily", ["key_id", "day", "code"])
    op.create_index(
        "ix_usage_daily_operation_day",
        "usage_daily",
        ["operation", "method", "day", "application_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_usage_daily_operation_day", table_name="usage_daily")
    op.drop_index("ix_usage_daily_key_day", table_name="usage_daily")
    op.drop_table("usage_daily")
