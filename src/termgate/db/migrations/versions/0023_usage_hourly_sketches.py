"""the distinct objects the usage events read, per hour and operation: exact counts and
HyperLogLog sketches, so the usage pages over all applications count a day's or a week's
distinct end users, employees, companies and debtors without reading its events (clause 4.1)

The table starts empty: the monitoring thread sketches the hours that are over, newest first,
a few each pass (governance/sketch_hours.py); until a range's hours are sketched the pages
read its events as before.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 21:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("end_users", "employees", "companies", "debtors")


def upgrade() -> None:
    op.create_table(
        "usage_hours",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hour"),
    )
    op.execute(
        "INSERT INTO usage_hours (hour, events) "
        "SELECT hour, sum(requests) FROM usage_hourly GROUP BY hour"
    )
    op.create_table(
        "usage_hourly_sketches",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operation", sa.String(length=200), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("hour_events", sa.BigInteger(), nullable=False),
        sa.Column("refusals", sa.BigInteger(), nullable=False),
        sa.Column("bytes_in", sa.BigInteger(), nullable=False),
        sa.Column("bytes_out", sa.BigInteger(), nullable=False),
        sa.Column("refusal_codes", sa.Text(), nullable=False),
        *(sa.Column(kind, sa.Integer(), nullable=False) for kind in KINDS),
        *(sa.Column(f"{kind}_sketch", sa.LargeBinary(), nullable=False) for kind in KINDS),
        sa.Column("latency_sketch", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("hour", "operation", name="pk_usage_hourly_sketches"),
    )


def downgrade() -> None:
    op.drop_table("usage_hourly_sketches")
    op.drop_table("usage_hours")
