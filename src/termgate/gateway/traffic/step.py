"""Step 4, limit (clauses 3.3 e-h and 4.4): one policy with a hook for each place on the path.

- `before(exchange, problem)`, once identify, admit and authorize have had their say: users
  served, the page size, the requests under way, then the counters (rate, quota, bandwidth)
  over the configured backend. It answers with the refusal, if any, and the RateLimit headers
  every response past identify carries (for a request an earlier step refused: the counters as
  they stand, nothing spent).
- `response_cap(exchange)` and `relay_capped(...)`, while the response is relayed: the plan's
  cap on one response's size.
- `after(exchange, sent)`, for every request `before` admitted, whatever became of it: the
  bytes relayed are charged to the day's bandwidth, and the place under way is given back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.faults import FaultLog
from termgate.gateway.exchange import Exchange, refuse
from termgate.gateway.snapshot import KeyGrant
from termgate.gateway.traffic.in_flight import InFlight
from termgate.gateway.traffic.memory_limiter import MemoryLimiter
from termgate.gateway.traffic.page_size import page_size
from termgate.gateway.traffic.plan_limits import Counted
from termgate.gateway.traffic.quota_seed import seed_quotas
from termgate.gateway.traffic.ratelimit_headers import Headers, rate_headers
from termgate.gateway.traffic.redis_limiter import RedisLimiter
from termgate.gateway.traffic.refusals import refusal
from termgate.problems import USERS_SERVED_CAP, ProblemResponse

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
wall_clock = time.time


def users_served(exchange: Exchange, grant: KeyGrant) -> ProblemResponse | None:
    """Clause 4.4: a token of a consent given beyond the plan's cap on users served."""
    if not grant.over_cap:
        return None
    bearer = exchange.bearer
    assert bearer is not None
    if bearer.end_user_id not in grant.over_cap:
        return None
    return refuse(
        exchange,
        USERS_SERVED_CAP,
        "This end user's consent came after your plan's cap on end users or customer "
        "accounts served was reached; upgrade the plan to serve them.",
    )


class TrafficPolicy:
    """The plan's limits on traffic, over the configured counter backend."""

    def __init__(
        self, backend: MemoryLimiter | RedisLimiter | None = None, clock_offset: float = 0.0
    ) -> None:
        self.backend = backend if backend is not None else MemoryLimiter()
        # Quota months and bandwidth days follow the moved clock (`clock_offset_seconds`), as
        # the maintenance calendar and token expiry do: tests place it inside or across a period.
        self.clock_offset = clock_offset
        self.memory = self.backend if isinstance(self.backend, MemoryLimiter) else None
        self.remote = self.backend if isinstance(self.backend, RedisLimiter) else None
        self.in_flight = InFlight()
        self.faults = FaultLog(log, "adding bytes sent to Redis")

    # Hooks on the request path -----------------------------------------------------------------

    async def before(
        self, exchange: Exchange, problem: ProblemResponse | None
    ) -> tuple[ProblemResponse | None, Headers | None]:
        """The refusal (`problem`, an earlier step's, or this step's own) and the RateLimit
        headers. When it admits, the request holds a place under way until `after`."""
        grant = exchange.grant
        if problem is None:
            assert grant is not None
            problem = (
                (grant.over_cap and users_served(exchange, grant))
                or page_size(exchange, grant)
                or self.in_flight.enter(exchange, grant)
            )
            if problem is None:
                limits = grant.limits
                if not limits.counted:
                    return None, None
                now = wall_clock() + self.clock_offset
                try:
                    memory = self.memory
                    # In process the decision is synchronous: no coroutine of its own.
                    if memory is not None:
                        verdict = memory.acquire(grant, now)
                    else:
                        assert self.remote is not None
                        verdict = await self.remote.acquire(grant, now)
                    headers = rate_headers(limits, verdict, now)
                    if verdict.refused:
                        problem = refusal(exchange, limits, verdict, now)
                except BaseException:
                    self.in_flight.leave(grant)
                    raise
                if problem is not None:
                    self.in_flight.leave(grant)
                return problem, headers
        if grant is None or not grant.limits.counted:
            return problem, None
        now = self._now()
        return problem, rate_headers(grant.limits, self.backend.peek(grant, now), now)

    def after(self, exchange: Exchange, sent: int) -> None:
        """For a request `before` admitted, once it is over: `sent` bytes relayed."""
        grant = exchange.grant
        assert grant is not None
        if sent and grant.limits.bandwidth is not None:
            self.backend.spend_bytes(grant, sent, wall_clock() + self.clock_offset)
        self.in_flight.leave(grant)

    def _now(self) -> float:
        return wall_clock() + self.clock_offset

    # Life of the process -----------------------------------------------------------------------

    async def start(
        self, sessions: async_sessionmaker[AsyncSession], grants: Mapping[str, Counted]
    ) -> None:
        """In process: seed the quotas from the usage events (Redis keeps its own counters)."""
        if self.memory is None:
            return
        by_key = {grant.key_id: grant for grant in grants.values()}
        async with sessions() as session:
            await seed_quotas(session, self.memory, by_key, self._now())

    async def run_forever(self) -> None:
        """Redis: carry the bytes sent by applications with no request since (clause 3.3 f)."""
        remote = self.remote
        if remote is None:
            return
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await remote.flush_bytes()
            except Exception as error:
                self.faults.failed(error, "kept for the next flush")
            else:
                self.faults.succeeded()

    async def close(self) -> None:
        if self.remote is not None:
            await self.remote.close()


def build_traffic_policy(
    backend: str,
    redis_url: str | None,
    failure: str,
    timeout: float,
    clock_offset: float = 0.0,
) -> TrafficPolicy:
    """The limit step over the configured backend (settings `limiter_backend`, `redis_*`)."""
    if backend == "redis":
        assert redis_url is not None
        return TrafficPolicy(
            RedisLimiter(
                redis_url,
                failure="closed" if failure == "closed" else "open",
                timeout=timeout,
            ),
            clock_offset,
        )
    return TrafficPolicy(MemoryLimiter(), clock_offset)
