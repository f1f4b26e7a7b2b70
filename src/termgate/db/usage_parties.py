"""Who each application dealt with, per UTC day (clause 3.3 g): the end users it called for and
the addresses it called from, one row per day, application and party, however many requests.

Circumvention asks, over a week, which end users and addresses each application shared with
others; the events hold one row per request, and a week of them is tens of millions of rows at
scale. Read from here, a week costs a row per day and pair: the whole UTC days of the window
come from this table, the rest (one day's worth in all, at the two ends) from the events.

The database keeps it, not the usage writer: a trigger on `usage_events` adds the parties of
each inserted event (SQLite: per row, `INSERT OR IGNORE`; PostgreSQL: per statement, from its
transition table, so the writer's COPY adds a batch's parties in one set-wise insert). Whatever
writes events (the writer, a test, a replayed spool) keeps the table exact; migration 0022 fills
it from the stored events. Retention deletes a day of it with the daily summary's rule: it holds
end user ids (personal data) no longer than the events it was made from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from termgate.db.models import Base, UTCDateTime

TABLE = "usage_daily_parties"
Party = Literal["end_user", "address"]
END_USER: Party = "end_user"
ADDRESS: Party = "address"


class UsageDailyParty(Base):
    """One application, one day, one end user or address it dealt with that day."""

    __tablename__ = TABLE

    day: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    application_id: Mapped[str] = mapped_column(String(32), nullable=False)
    party: Mapped[str] = mapped_column(String(8), nullable=False)
    value: Mapped[str] = mapped_column(String(64), nullable=False)

    # Read by day (a week's whole days), deleted by day (retention): the key starts with it.
    __table_args__ = (
        PrimaryKeyConstraint(
            "day", "application_id", "party", "value", name="pk_usage_daily_parties"
        ),
    )
