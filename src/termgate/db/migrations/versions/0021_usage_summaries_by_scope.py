"""the usage summaries grouped by scope too, so least privilege reads its 90 days of scopes used
from them (clause 3.3 e)

Both summaries are rebuilt: the hourly one from the stored events (which it equals, hour for
hour: retention cuts both on the same whole hour), the daily one from the new hourly one. A day
of the daily summary older than the first stored hour (kept by retention until the next cut-off
passes its end, read by nothing) comes back with only the hours still stored. The rebuild reads
every stored event once: on PostgreSQL about a minute per 10 million (docs/performance.md).

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 12:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("key_id", "application_id", "developer_id", "method", "operation", "status", "code")
AFTER = (*BEFORE, "scope")
SUMS = ("requests", "bytes_in", "bytes_out", "latency_ms")
# The events' group as the usage writer sums it: absent values as '' (and code 0).
EVENT_VALUES = {
    "key_id": "coalesce(key_id, '')",
    "application_id": "coalesce(application_id, '')",
    "developer_id": "coalesce(developer_id, '')",
    "method": "method",
    "operation": "coalesce(operation, '')",
    "status": "status",
    "code": "coalesce(code, 0)",
    "scope": "coalesce(scope, '')",
}
HOURLY_FROM_EVENTS = """
INSERT INTO usage_hourly (hour, {group}, requests, bytes_in, bytes_out, latency_ms)
SELECT hour, {group}, count(*), sum(bytes_in), sum(bytes_out), sum(latency_ms)
FROM (SELECT {hour} AS hour, {values}, bytes_in, bytes_out, latency_ms
      FROM usage_events) AS events
GROUP BY hour, {group}
"""
DAILY_FROM_HOURLY = """
INSERT INTO usage_daily (day, {group}, requests, bytes_in, bytes_out, latency_ms)
SELECT {day} AS day, {group}, sum(requests), sum(bytes_in), sum(bytes_out), sum(latency_ms)
FROM usage_hourly
GROUP BY {day}, {group}
"""
HOUR = {
    "postgresql": "date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    "sqlite": "strftime('%Y-%m-%d %H:00:00.000000', at)",
}
DAY = {
    "postgresql": "date_trunc('day', hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    "sqlite": "substr(hour, 1, 10) || ' 00:00:00.000000'",
}
NEW_DAY = "substr(NEW.hour, 1, 10) || ' 00:00:00.000000'"
# SQLite: the daily summary follows the hourly one inside SQLite (as since migration 0020).
TRIGGERS = ("usage_hourly_inserted_adds_to_daily", "usage_hourly_updated_adds_to_daily")


def sqlite_triggers(group: Sequence[str]) -> tuple[str, str]:
    columns = (*group, *SUMS)
    return (
        f"""
CREATE TRIGGER {TRIGGERS[0]} AFTER INSERT ON usage_hourly BEGIN
    INSERT INTO usage_daily (day, {", ".join(columns)})
    VALUES ({NEW_DAY}, {", ".join(f"NEW.{name}" for name in columns)})
    ON CONFLICT (day, {", ".join(group)}) DO UPDATE SET
        {", ".join(f"{name} = usage_daily.{name} + excluded.{name}" for name in SUMS)};
END
""",
        f"""
CREATE TRIGGER {TRIGGERS[1]} AFTER UPDATE OF {", ".join(SUMS)} ON usage_hourly BEGIN
    UPDATE usage_daily SET
        {", ".join(f"{name} = {name} + NEW.{name} - OLD.{name}" for name in SUMS)}
    WHERE day = {NEW_DAY} AND {" AND ".join(f"{name} = NEW.{name}" for name in group)};
END
""",
    )


def summary_table(name: str, period: str, group: Sequence[str]) -> None:
    widths = {"key_id": 32, "application_id": 32, "developer_id": 32, "method": 8}
    widths |= {"operation": 200, "scope": 64}
    columns = [
        sa.Column(column, sa.Integer(), nullable=False)
        if column in ("status", "code")
        else sa.Column(column, sa.String(length=widths[column]), nullable=False)
        for column in group
    ]
    op.create_table(
        name,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(period, sa.DateTime(timezone=True), nullable=False),
        *columns,
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("bytes_in", sa.BigInteger(), nullable=False),
        sa.Column("bytes_out", sa.BigInteger(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint(period, *group, name=f"uq_{name}_group"),
    )


def rebuild(group: Sequence[str], *, hour_index: bool) -> None:
    """Both summaries dropped and made again from the stored events, grouped by `group`."""
    dialect = op.get_bind().dialect.name
    op.drop_table("usage_daily")  # its indexes go with it
    op.drop_table("usage_hourly")  # and its SQLite triggers
    summary_table("usage_hourly", "hour", group)
    summary_table("usage_daily", "day", group)
    if dialect == "postgresql":
        # Each row is added to by every batch of its period: room on its page for the new
        # version (a HOT update, which touches no index).
        op.execute("ALTER TABLE usage_hourly SET (fillfactor = 50)")
        op.execute("ALTER TABLE usage_daily SET (fillfactor = 50)")
    names = ", ".join(group)
    values = ", ".join(f"{EVENT_VALUES[name]} AS {name}" for name in group)
    op.execute(HOURLY_FROM_EVENTS.format(group=names, values=values, hour=HOUR[dialect]))
    op.execute(DAILY_FROM_HOURLY.format(group=names, day=DAY[dialect]))
    # Built after the rebuild: faster than maintained row by row.
    for table, period in (("usage_hourly", "hour"), ("usage_daily", "day")):
        op.create_index(f"ix_{table}_key_{period}", table, ["key_id", period, "code"])
        op.create_index(
            f"ix_{table}_operation_{period}",
            table,
            ["operation", "method", period, "application_id"],
        )
    if hour_index:
        op.create_index("ix_usage_hourly_hour", "usage_hourly", ["hour"])
    if dialect == "sqlite":
        for trigger in sqlite_triggers(group):
            op.execute(trigger)


def upgrade() -> None:
    rebuild(AFTER, hour_index=True)


def downgrade() -> None:
    rebuild(BEFORE, hour_index=False)
