"""The end users and addresses each application dealt with in a window, read for circumvention
(clauses 3.3 g, h; `shared_parties` judges what they share): the whole UTC days from the daily
parties (`db/usage_parties.py`, a row per day and pair), the cut days at the two ends from the
events, both parties in one read of them.

Each read returns a row per application (and day and party), its values aggregated in the
database (PostgreSQL: an array; SQLite: a JSON array, so no value can be cut at a separator),
and is streamed: a busy week is millions of values, taken in `BY_ROWS` rows at a time.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from termgate.db.models import UsageEvent
from termgate.db.usage_daily import whole_days
from termgate.db.usage_parties import ADDRESS, END_USER, Party, UsageDailyParty
from termgate.monitoring.shared_parties import PartyNumbers
from termgate.monitoring.window import Window

# Rows a stream holds at once (each an application's values of a day): without it the session
# buffered the whole result (2 GB for a busy week at 100 million events a month, 65 MB with 100
# rows). Each batch is a round trip: at 100 rows they cost a dense week ~0.5 s more than at 500.
BY_ROWS = {"yield_per": 500}
PARTY_COLUMNS: dict[Party, InstrumentedAttribute[str | None]] = {
    END_USER: UsageEvent.end_user_id,
    ADDRESS: UsageEvent.client_ip,
}


async def parties_per_application(
    session: AsyncSession, window: Window
) -> dict[Party, PartyNumbers]:
    """Per party, each application's end users (addresses) in the window."""
    postgres = session.get_bind().dialect.name == "postgresql"
    values = func.array_agg if postgres else func.json_group_array
    days, edges = whole_days(window.start, window.end)
    found = {party: PartyNumbers() for party in PARTY_COLUMNS}

    def add(party: Party, application: object, given: Any) -> None:
        # An event without one of the two parties aggregates a NULL beside the other's values.
        found[party].add(str(application), given if postgres else json.loads(given))

    for first, last in edges:
        read = (
            select(
                UsageEvent.application_id,
                *(values(distinct(column)) for column in PARTY_COLUMNS.values()),
            )
            .where(
                UsageEvent.at >= first,
                UsageEvent.at < last,
                UsageEvent.application_id.is_not(None),
            )
            .group_by(UsageEvent.application_id)
        )
        async for application, *per_party in await session.stream(
            read.execution_options(**BY_ROWS)
        ):
            for party, given in zip(PARTY_COLUMNS, per_party, strict=True):
                add(party, application, given)
    if days is not None:
        # A row per day, application and party, in the key's order: the database aggregates as
        # it reads the key, without a sort (grouped across days, with DISTINCT, a busy week's
        # parties were sorted on disk: 22 s at 100 million events a month, 2.6 s so). The
        # numbers dedupe across days.
        read = (
            select(
                UsageDailyParty.party,
                UsageDailyParty.application_id,
                values(UsageDailyParty.value),
            )
            .where(UsageDailyParty.day >= days[0], UsageDailyParty.day < days[1])
            .group_by(UsageDailyParty.day, UsageDailyParty.application_id, UsageDailyParty.party)
        )
        async for party, application, given in await session.stream(
            read.execution_options(**BY_ROWS)
        ):
            if party in found:
                add(party, application, given)
    return found
