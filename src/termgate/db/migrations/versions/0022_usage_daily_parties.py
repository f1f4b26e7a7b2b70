"""who each application dealt with per day (its end users and addresses), kept by a trigger on
the usage events, so circumvention reads a week of them from a row per day and pair rather than
from every event (clause 3.3 g)

The table is filled from the stored events (one read of them: on PostgreSQL about half a minute
per 10 million, docs/performance.md). The trigger is made first, in the same transaction: on
PostgreSQL it takes a lock on `usage_events` that makes writers wait until the migration
commits, so no event is missed or counted twice; nodes need not stop.

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

PARTIES = {"end_user": "end_user_id", "address": "client_ip"}
DAY = {
    "postgresql": "date_trunc('day', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    "sqlite": "substr(at, 1, 10) || ' 00:00:00.000000'",
}
TRIGGER = "usage_events_inserted_add_parties"
FUNCTION = "usage_events_add_parties"


def parties_of(events: str, day: str) -> str:
    """The distinct (day, application, party, value) of the rows of `events`, sorted (so that
    two writers adding the same new rows take their locks in one order)."""
    return (
        " UNION ".join(
            f"SELECT {day}, application_id, '{party}', {column} FROM {events} "
            f"WHERE application_id IS NOT NULL AND {column} IS NOT NULL"
            for party, column in PARTIES.items()
        )
        + " ORDER BY 1, 2, 3, 4"
    )


INSERT = "INSERT INTO usage_daily_parties (day, application_id, party, value) "
# SQLite: per inserted row, nothing bound by the writer; an existing row is left as it is.
NEW_DAY = "substr(NEW.at, 1, 10) || ' 00:00:00.000000'"
SQLITE_INSERTS = "".join(
    f"    INSERT OR IGNORE INTO usage_daily_parties (day, application_id, party, value)\n"
    f"    SELECT {NEW_DAY}, NEW.application_id, '{party}', NEW.{column}\n"
    f"    WHERE NEW.{column} IS NOT NULL;\n"
    for party, column in PARTIES.items()
)
SQLITE_TRIGGER = f"""
CREATE TRIGGER {TRIGGER} AFTER INSERT ON usage_events
WHEN NEW.application_id IS NOT NULL BEGIN
{SQLITE_INSERTS}END
"""
# PostgreSQL: per statement, from its transition table: one insert for a COPY of a whole batch.
POSTGRES_FUNCTION = f"""
CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {INSERT}{parties_of("inserted_events", DAY["postgresql"])} ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$
"""
POSTGRES_TRIGGER = f"""
CREATE TRIGGER {TRIGGER} AFTER INSERT ON usage_events
REFERENCING NEW TABLE AS inserted_events
FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()
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
    dialect = op.get_bind().dialect.name
    stored = parties_of("usage_events", DAY[dialect])
    if dialect == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
        op.execute(f"{INSERT}{stored} ON CONFLICT DO NOTHING")
    else:
        op.execute(SQLITE_TRIGGER)
        op.execute(f"{INSERT.replace('INSERT', 'INSERT OR IGNORE', 1)}{stored}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON usage_events")
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
    op.drop_table("usage_daily_parties")
