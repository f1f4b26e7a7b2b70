"""Quotas survive a restart in embedded mode (clause 4.4): at start the in-process counters are
seeded from the usage of the current period: one grouped count per period bucket (one for a
calendar month, one per day of a rolling period), never a query per request. Whole UTC days are
read from the daily summary, the whole hours at their ends from the hourly one (one index range
per key each), not from the period's events: a month's seed reads at most ~31 rows per key and
group, however many events the month had."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import UsageEvent
from termgate.db.usage_hourly import NO_CODE
from termgate.db.usage_stretches import Stretch, count_requests, stretches
from termgate.gateway.exchange import CLIENT_CLOSED
from termgate.gateway.traffic.memory_limiter import MemoryLimiter
from termgate.gateway.traffic.periods import bucket_bounds
from termgate.gateway.traffic.plan_limits import Counted
from termgate.problems import RESPONSE_TOO_LARGE, UPSTREAM_ERROR, UPSTREAM_TIMEOUT

log = logging.getLogger(__name__)

# Outcomes of requests the limiter admitted though the usage event carries a code: the client
# went away mid-body, the response was cut at the size cap, the upstream failed or timed out.
ADMITTED_CODES = (
    CLIENT_CLOSED,
    RESPONSE_TOO_LARGE.code,
    UPSTREAM_ERROR.code,
    UPSTREAM_TIMEOUT.code,
)


def _admitted(stretch: Stretch, key_ids: list[str]) -> Select[Any]:
    """Per key, the requests of the stretch the limiter admitted (summaries store no code as
    `NO_CODE`, the events as NULL)."""
    table, period, first, last = stretch
    admitted = (
        or_(table.code.is_(None), table.code.in_(ADMITTED_CODES))
        if table is UsageEvent
        else table.code.in_((NO_CODE, *ADMITTED_CODES))
    )
    return (
        select(table.key_id, count_requests(table))
        .where(table.key_id.in_(key_ids), period >= first, period < last, admitted)
        .group_by(table.key_id)
    )


async def admitted_counts(
    session: AsyncSession, key_ids: list[str], start: datetime, end: datetime
) -> dict[str, int]:
    """The requests the limiter admitted per key in [start, end): the whole UTC days from the
    daily summary, the other whole hours from the hourly one, the hours the range cuts from the
    events themselves (exact either way)."""
    counts: dict[str, int] = defaultdict(int)
    for stretch in stretches(start, end):
        for found, used in (await session.execute(_admitted(stretch, key_ids))).all():
            if found:
                counts[found] += int(used)
    return counts


async def seed_quotas(
    session: AsyncSession, limiter: MemoryLimiter, grants: dict[str, Counted], now: float
) -> int:
    """`grants` by key id; returns the number of counters seeded."""
    wanted: dict[tuple[str, str], list[str]] = defaultdict(list)  # (zone, bucket) → key ids
    for key_id, grant in grants.items():
        limits = grant.limits
        if limits.quota is None:
            continue
        for bucket in limits.quota_period(now).buckets:
            wanted[(limits.zone, bucket)].append(key_id)
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for (_zone, bucket), key_ids in wanted.items():
        tz = grants[key_ids[0]].limits.calendar.tz
        start, end = bucket_bounds(tz, bucket)
        for found, used in (await admitted_counts(session, key_ids, start, end)).items():
            totals[(grants[found].app_counter, bucket)] += used
    for (counter, bucket), used in totals.items():
        limiter.seed_quota(counter, bucket, used)
    if totals:
        log.info("quota counters seeded from usage events: %d", len(totals))
    return len(totals)
