"""usage events carry what detection reads (the path's tenant ids, the client address, the
scope); the hourly usage summary the quota seed and the announcements read

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


GROUP = "key_id, application_id, developer_id, method, operation, status, code"
# The summary of the events already stored, as the usage writer would have summed them.
BACKFILL = """
INSERT INTO usage_hourly (hour, {group}, requests, bytes_in, bytes_out, latency_ms)
SELECT hour, {group}, count(*), sum(bytes_in), sum(bytes_out), sum(latency_ms)
FROM (SELECT {hour} AS hour, coalesce(key_id, '') AS key_id,
             coalesce(application_id, '') AS application_id,
             coalesce(developer_id, '') AS developer_id, method,
             coalesce(operation, '') AS operation, status, coalesce(code, 0) AS code,
             bytes_in, bytes_out, latency_ms
      FROM usage_events) AS events
GROUP BY hour, {group}
"""
HOUR = {
    "postgresql": "date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    "sqlite": "strftime('%Y-%m-%d %H:00:00.000000', at)",
}


def upgrade() -> None:
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        for name, length in DETECTION_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))
    op.create_table(
        "usage_hourly",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_hourly")),
        sa.UniqueConstraint(
            "hour",
            "key_id",
            "application_id",
            "developer_id",
            "method",
            "operation",
            "status",
            "code",
            name="uq_usage_hourly_group",
        ),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # Room on each page for the new version of a row the writer adds to (a HOT update,
        # which touches no index): the summary's rows are updated far more than inserted.
        op.execute("ALTER TABLE usage_hourly SET (fillfactor = 50)")
    op.execute(BACKFILL.format(group=GROUP, hour=HOUR[dialect]))
    # Built after the backfill: faster than maintained row by row.
    op.create_index("ix_usage_hourly_key_hour", "usage_hourly", ["key_id", "hour", "code"])
    op.create_index(
        "ix_usage_hourly_operation_hour",
        "usage_hourly",
        ["operation", "method", "hour", "application_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_usage_hourly_operation_hour", table_name="usage_hourly")
    op.drop_index("ix_usage_hourly_key_hour", table_name="usage_hourly")
    op.drop_table("usage_hourly")
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        for name, _length in reversed(DETECTION_COLUMNS):
            batch_op.drop_column(name)
