"""Retention: usage events, spent credentials and the old change feed are deleted once nothing
needs them, in bounded batches (one short transaction each, so PostgreSQL holds no long lock).

Usage events carry personal data (the end user of each call), so they are not kept forever
(GDPR Art. 5(1)(e)); `TERMGATE_USAGE_RETENTION_DAYS` says how long, 0 keeping them, and the
hourly usage summary goes with them (the same cut-off, on a whole hour), a day of the daily
summary and of the daily parties (end users and addresses) once all of it is older than the
cut-off. The cut-off is
never more recent than what termgate still reads them for: the longest quota period of any plan
(quota counters are seeded from them at start) and the 90 days an announcement looks back.

The audit trail, consents, terms acceptances, token families and inbox notices are never deleted
here: they are the provider's evidence (docs/operations.md, "Retention").

Two nodes pruning at once is harmless: each batch skips rows another transaction holds
(PostgreSQL `SKIP LOCKED`), and a row deleted twice is deleted once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, Table, delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.faults import FaultLog
from termgate.db.models import AccessChange, Base, Plan, UsageEvent
from termgate.db.oauth import AuthorizationCode, PushedRequest, RefreshToken
from termgate.db.programme import EmailToken
from termgate.db.usage_daily import UsageDaily
from termgate.db.usage_hourly import UsageHour, UsageHourly, floor_hour
from termgate.db.usage_parties import UsageDailyParty
from termgate.db.usage_sketches import UsageHourlySketches
from termgate.governance.announcements import LOOKBACK
from termgate.strict import whole_number

log = logging.getLogger(__name__)

BATCH_SIZE = 5000
DAY = timedelta(days=1)
MONTH_DAYS = 31
MAX_ROLLING_DAYS = 366
# A used code or rotated refresh token presented again revokes its token family (RFC 9700
# §4.14); kept this long past expiry, a late replay still does.
REPLAY_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Target:
    """Rows of one table to delete: `where` holds for each of them; `cutoff` is for the report."""

    table: Table
    where: ColumnElement[bool]
    cutoff: datetime
    why: str


@dataclass(frozen=True)
class Pruned:
    table: str
    rows: int
    cutoff: datetime
    why: str


def table_of(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def quota_days(period: str) -> int:
    """Days a plan's quota period reaches back: "month" → 31, "rolling:N" → N (at most 366, as
    the limiter reads it; anything malformed counts as the month)."""
    kind, _, days = period.partition(":")
    count = whole_number(days) if kind == "rolling" else None
    return min(count, MAX_ROLLING_DAYS) if count else MONTH_DAYS


async def floor_days(session: AsyncSession) -> int:
    """The fewest days of usage events termgate itself still reads."""
    periods = (await session.scalars(select(Plan.quota_period).distinct())).all()
    longest = max((quota_days(period) for period in periods), default=MONTH_DAYS)
    return max(LOOKBACK.days, longest + 1)


async def targets(session: AsyncSession, now: datetime, retention_days: int) -> list[Target]:
    """What retention deletes now; usage events only when `retention_days` is not 0."""
    found: list[Target] = []
    if retention_days:
        floor = await floor_days(session)
        days = max(retention_days, floor)
        why = f"{days} days" + (
            f" (TERMGATE_USAGE_RETENTION_DAYS {retention_days} is below the {floor} days "
            "the plans' quotas and announcements read)"
            if days > retention_days
            else ""
        )
        # On a whole hour: the hourly summary's rows go with exactly their hour's events.
        cutoff = floor_hour(now - timedelta(days=days))
        found.append(Target(table_of(UsageEvent), UsageEvent.at < cutoff, cutoff, why))
        found.append(Target(table_of(UsageHourly), UsageHourly.hour < cutoff, cutoff, why))
        found.append(Target(table_of(UsageHour), UsageHour.hour < cutoff, cutoff, why))
        sketched = table_of(UsageHourlySketches)  # its hours' distinct end users, sketched
        found.append(Target(sketched, UsageHourlySketches.hour < cutoff, cutoff, why))
        # The day the cut-off falls in keeps its row until the next cut-off passes its end;
        # nothing reads that far back (the cut-off is older than any quota period and the
        # announcements' 90 days).
        found.append(Target(table_of(UsageDaily), UsageDaily.day <= cutoff - DAY, cutoff, why))
        found.append(
            Target(table_of(UsageDailyParty), UsageDailyParty.day <= cutoff - DAY, cutoff, why)
        )
    replay = now - REPLAY_WINDOW
    spent = now - DAY
    head = select(func.max(AccessChange.id)).scalar_subquery()
    found += [
        Target(
            table_of(AuthorizationCode),
            AuthorizationCode.expires_at < replay,
            replay,
            "expired 30 days ago",
        ),
        Target(
            table_of(RefreshToken), RefreshToken.expires_at < replay, replay, "expired 30 days ago"
        ),
        Target(table_of(PushedRequest), PushedRequest.expires_at < spent, spent, "expired"),
        Target(table_of(EmailToken), EmailToken.expires_at < spent, spent, "expired"),
        # Nodes compare the feed's newest id only, so the newest row always stays.
        Target(
            table_of(AccessChange),
            (AccessChange.at < spent) & (AccessChange.id < head),
            spent,
            "older than a day",
        ),
    ]
    return found


async def count(session: AsyncSession, target: Target) -> int:
    rows = await session.scalar(select(func.count()).select_from(target.table).where(target.where))
    return int(rows or 0)


async def delete_batch(session: AsyncSession, target: Target, batch_size: int) -> int:
    """Delete up to `batch_size` rows; rows another transaction is deleting are skipped."""
    keys = list(target.table.primary_key.columns)
    chosen = select(*keys).where(target.where).limit(batch_size).with_for_update(skip_locked=True)
    # A composite key (the daily parties) is matched whole, so that a batch stays a batch.
    key = keys[0] if len(keys) == 1 else tuple_(*keys)
    result = await session.execute(delete(target.table).where(key.in_(chosen)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def prune(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    retention_days: int,
    *,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
) -> list[Pruned]:
    """Delete (or, with `dry_run`, count) what retention removes; one transaction per batch."""
    async with sessions() as session:
        planned = await targets(session, now, retention_days)
        if dry_run:
            return [Pruned(t.table.name, await count(session, t), t.cutoff, t.why) for t in planned]
    report = []
    for target in planned:
        total = 0
        while True:
            async with sessions.begin() as session:
                deleted = await delete_batch(session, target, batch_size)
            total += deleted
            if deleted < batch_size:
                break
            await asyncio.sleep(0)  # let the node's requests run between batches
        report.append(Pruned(target.table.name, total, target.cutoff, target.why))
    return report


def summary(report: list[Pruned]) -> str:
    return ", ".join(f"{item.rows} {item.table}" for item in report)


async def prune_daily(
    sessions: async_sessionmaker[AsyncSession],
    now: Callable[[], datetime],
    retention_days: int,
    first_delay: float | None = None,
    interval: float = DAY.total_seconds(),
    retry: float = 3600.0,
) -> None:
    """`serve`'s job: prune once a day, first a few minutes after start (spread over nodes and
    workers); a failure is logged (rate-limited) and tried again after `retry` seconds."""
    faults = FaultLog(log, "retention pruning")
    delay = random.uniform(60.0, 600.0) if first_delay is None else first_delay
    while True:
        await asyncio.sleep(delay)
        try:
            report = await prune(sessions, now(), retention_days)
        except Exception as error:
            faults.failed(error, f"trying again in {retry:.0f} s")
            delay = retry
            continue
        faults.succeeded()
        if any(item.rows for item in report):
            log.info("retention pruning deleted %s", summary(report))
        delay = interval
