"""who each application dealt with per day (its end users and addresses), which the usage
writer adds to beside the events, so circumvention reads a week of them from a row per day and
pair rather than from every event (clause 3.3 g); and an index of the throttled events, for its
throttled minutes and first throttlings

The table is filled from the stored events (one read of them: on PostgreSQL about a minute per
10 million with the index, docs/performance.md). A node still running the code before this
migration writes events without their parties: replace the nodes promptly after it, or stop
them for it (docs/operations.md).

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 14:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAY = {
    "postgresql": "date_trunc('day', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    "sqlite": "substr(at, 1, 10) || ' 00:00:00.000000'",
}
# The stored events' distinct parties per day and application, as the usage writer adds them.
FILL = """
INSERT INTO usage_daily_parties (day, application_id, party, value)
SELECT {day}, application_id, 'end_user', end_user_id FROM usage_events
WHERE application_id IS NOT NULL AND end_user_id IS NOT NULL
UNION
SELECT {day}, application_id, 'address', client_ip FROM usage_events
WHERE application_id IS NOT NULL AND client_ip IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        "usage_daily_parties",
        sa.Column("day", sa.DateTime(timezone=True), nullable=False),
        sa.Column("application_id", sa.String(length=32), nullable=False),
        sa.Column("party", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "application_id", "party", "value", name="pk_usage_daily_parties"
        ),
    )
    op.execute(FILL.format(day=DAY[op.get_bind().dialect.name]))
    # Circumvention's throttled minutes and first throttlings: the throttled events only, with
    # what those reads need (they read the index alone).
    op.create_index(
        "ix_usage_events_throttled_at",
        "usage_events",
        ["at", "developer_id", "application_id"],
        postgresql_where=sa.text("status = 429"),
        sqlite_where=sa.text("status = 429"),
    )


def downgrade() -> None:
    op.drop_index("ix_usage_events_throttled_at", table_name="usage_events")
    op.drop_table("usage_daily_parties")
