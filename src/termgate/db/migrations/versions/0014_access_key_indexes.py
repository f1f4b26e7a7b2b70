"""access key indexes: a change in the feed finds the keys under it without a table scan

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 14:50:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The gateway's snapshot patch reads the keys under a changed subscription, application,
# developer or plan (`gateway.snapshot_patch`); at 1,000,000 keys a scan costs seconds.
INDEXES = (
    ("ix_subscription_keys_subscription_id", "subscription_keys", "subscription_id"),
    ("ix_subscriptions_application_id", "subscriptions", "application_id"),
    ("ix_subscriptions_plan_id", "subscriptions", "plan_id"),
    ("ix_applications_developer_id", "applications", "developer_id"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _column in reversed(INDEXES):
        op.drop_index(name, table_name=table)
