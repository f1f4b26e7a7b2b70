"""Quotas survive a restart in embedded mode (clause 4.4): at start the in-process counters are
seeded from the usage events of the current period: one grouped count per period bucket (one
for a calendar month, one per day of a rolling period), never a query per request."""

from __future__ import annotations

import logging
from collections import defaultdict

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import UsageEvent
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
        rows = await session.execute(
            select(UsageEvent.key_id, func.count())
            .where(
                UsageEvent.at >= start,
                UsageEvent.at < end,
                UsageEvent.key_id.in_(key_ids),
                or_(UsageEvent.code.is_(None), UsageEvent.code.in_(ADMITTED_CODES)),
            )
            .group_by(UsageEvent.key_id)
        )
        for found, count in rows.all():
            if found is not None:
                totals[(grants[found].app_counter, bucket)] += int(count)
    for (counter, bucket), used in totals.items():
        limiter.seed_quota(counter, bucket, used)
    if totals:
        log.info("quota counters seeded from usage events: %d", len(totals))
    return len(totals)
