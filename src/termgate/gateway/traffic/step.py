"""The limit step's counters for the pipeline: ask the backend, answer with the problem the
terms name, and the IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers) for every
response that passed identify."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.gateway.exchange import Exchange, refuse
from termgate.gateway.traffic.gcra import (
    APP_RATE,
    BANDWIDTH,
    DEVELOPER_RATE,
    QUOTA,
    UNAVAILABLE,
    Verdict,
)
from termgate.gateway.traffic.memory_limiter import Counted, MemoryLimiter
from termgate.gateway.traffic.plan_limits import POLICY_HEADER, STATE_HEADER, PlanLimits
from termgate.gateway.traffic.quota_seed import seed_quotas
from termgate.gateway.traffic.redis_limiter import RedisLimiter
from termgate.problems import (
    BANDWIDTH_EXHAUSTED,
    DEVELOPER_RATE_LIMITED,
    LIMITER_UNAVAILABLE,
    QUOTA_EXHAUSTED,
    RATE_LIMITED,
    ProblemResponse,
)

log = logging.getLogger(__name__)

Headers = list[tuple[str, str]]
FLUSH_SECONDS = 1.0
wall_clock = time.time


def _seconds(value: float) -> int:
    return max(0, math.ceil(value - 1e-6))


def rate_headers(limits: PlanLimits, verdict: Verdict, now: float) -> Headers:
    values: list[int] = []
    if limits.rate is not None:
        values += (verdict.app_left, _seconds(verdict.app_reset))
    if limits.developer_rate is not None:
        values += (verdict.developer_left, _seconds(verdict.developer_reset))
    if limits.quota is not None:
        ends = limits.quota_window(now).ends
        values += (max(limits.quota - verdict.quota_used, 0), _seconds(ends - now))
    if limits.bandwidth is not None:
        ends = limits.calendar.day(now).ends
        values += (max(limits.bandwidth - verdict.bandwidth_used, 0), _seconds(ends - now))
    return [
        (POLICY_HEADER, limits.policy_header),
        (STATE_HEADER, limits.state_template % tuple(values)),
    ]


def _reset_at(limits: PlanLimits, ends: float) -> str:
    return datetime.fromtimestamp(ends, limits.calendar.tz).isoformat()


def refusal(
    exchange: Exchange, limits: PlanLimits, verdict: Verdict, now: float
) -> ProblemResponse:
    refused = verdict.refused
    if refused == QUOTA:
        ends = limits.quota_window(now).ends
        days = limits.rolling_days
        period = "this calendar month" if days is None else f"the last {days} days"
        reset_at = _reset_at(limits, ends)
        return refuse(
            exchange,
            QUOTA_EXHAUSTED,
            f"Your plan's quota of {limits.quota} requests for {period} is used up; "
            f"it renews at {reset_at}. Upgrade your plan for more.",
            resetAt=reset_at,
        )
    if refused == BANDWIDTH:
        ends = limits.calendar.day(now).ends
        problem = refuse(
            exchange,
            BANDWIDTH_EXHAUSTED,
            f"Your application has used its {limits.bandwidth} bytes of responses for today; "
            f"the budget renews at {_reset_at(limits, ends)}.",
            resetAt=_reset_at(limits, ends),
        )
        problem.headers.append(("retry-after", str(_seconds(ends - now))))
        return problem
    if refused == UNAVAILABLE:
        problem = refuse(
            exchange,
            LIMITER_UNAVAILABLE,
            "The gateway cannot check your plan's limits right now; retry shortly.",
        )
    elif refused == DEVELOPER_RATE:
        problem = refuse(
            exchange,
            DEVELOPER_RATE_LIMITED,
            f"Your developer account may send {limits.developer_rate} requests per minute on "
            "this plan across all its applications and keys; retry later.",
        )
    else:
        assert refused == APP_RATE
        problem = refuse(
            exchange,
            RATE_LIMITED,
            f"Your application may send {limits.rate} requests per minute on this plan; "
            "retry later.",
        )
    problem.headers.append(("retry-after", str(max(1, _seconds(verdict.wait)))))
    return problem


class Limits:
    """The counters of rate, quota and bandwidth over the configured backend."""

    def __init__(self, backend: MemoryLimiter | RedisLimiter) -> None:
        self.backend = backend
        self.memory = backend if isinstance(backend, MemoryLimiter) else None
        self.remote = backend if isinstance(backend, RedisLimiter) else None

    async def start(
        self, sessions: async_sessionmaker[AsyncSession], grants: Mapping[str, Counted]
    ) -> None:
        """In process: seed the quotas from the usage events (Redis keeps its own counters)."""
        if self.memory is None:
            return
        by_key = {grant.key_id: grant for grant in grants.values()}
        async with sessions() as session:
            await seed_quotas(session, self.memory, by_key, wall_clock())

    async def run_forever(self) -> None:
        """Redis: carry the bytes sent by applications with no request since (clause 3.3 f)."""
        remote = self.remote
        if remote is None:
            return
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await remote.flush_bytes()
            except Exception:
                log.exception("adding bytes sent to Redis failed; kept for the next flush")

    async def close(self) -> None:
        if self.remote is not None:
            await self.remote.close()

    async def admit(
        self, exchange: Exchange, grant: Counted
    ) -> tuple[ProblemResponse | None, Headers]:
        now = wall_clock()
        memory = self.memory
        if memory is not None:
            verdict = memory.acquire(grant, now)
        else:
            assert self.remote is not None
            verdict = await self.remote.acquire(grant, now)
        limits = grant.limits
        headers = rate_headers(limits, verdict, now)
        if verdict.refused:
            return refusal(exchange, limits, verdict, now), headers
        return None, headers

    def headers(self, grant: Counted) -> Headers:
        """For a request refused before the limit step: the counters as they stand."""
        now = wall_clock()
        return rate_headers(grant.limits, self.backend.peek(grant, now), now)

    def spent(self, grant: Counted, sent: int) -> None:
        if grant.limits.bandwidth is not None and sent:
            self.backend.spend_bytes(grant, sent, wall_clock())


def build_limits(
    backend: str, redis_url: str | None, failure: str, timeout: float, pool_size: int
) -> Limits:
    """The limits of the configured backend (settings `limiter_backend`, `redis_*`)."""
    if backend == "redis":
        assert redis_url is not None
        return Limits(
            RedisLimiter(
                redis_url,
                failure="closed" if failure == "closed" else "open",
                pool_size=pool_size,
                timeout=timeout,
            )
        )
    return Limits(MemoryLimiter())
