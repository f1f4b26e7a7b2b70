"""The cluster limiter: counters in Redis, one Lua script per request (clause 4.4 across nodes).

The script reads every counter the request touches, decides, and only if every limit holds
updates them all, atomically: a refused request spends nothing, and two nodes can never both
take the last unit. One `EVALSHA` per request is the only round trip (the script is loaded once;
redis-py loads it again after a Redis restart). Redis' own clock (`TIME`) drives the rates, so
the nodes' clocks need not agree.

Bytes sent (clause 3.3 f) are known only after the response; they are added to the
application's day counter by its next request's script (and by a flush every second for the
rest), so counting them costs no round trip of its own.

Redis unreachable: `open` falls back to this node's in-process limits (logged once per outage),
`closed` refuses with 503 (code 50302). Either way Redis is tried again after a second.
"""

from __future__ import annotations

import logging
import math
from typing import Literal

from redis.asyncio import BlockingConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from termgate.gateway.traffic.gcra import UNAVAILABLE, Verdict
from termgate.gateway.traffic.memory_limiter import Counted, MemoryLimiter

log = logging.getLogger(__name__)

RETRY_AFTER_DOWN = 1.0  # seconds before Redis is tried again after a failure
DAY_SECONDS = 86_400

# KEYS: app TAT, developer TAT, bandwidth day, quota buckets (newest first).
# ARGV: app interval µs (0: none), developer interval µs (0: none), quota (-1: none),
#       quota bucket TTL s, bandwidth (-1: none), bandwidth TTL s, bytes sent since last time.
# Returns: refused (0 none, 1 app, 2 developer, 3 quota, 4 bandwidth), wait µs, app left,
#          app reset µs, developer left, developer reset µs, quota used, bandwidth used.
SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local minute = 60000000
local refused, wait = 0, 0
local quota, bandwidth = tonumber(ARGV[3]), tonumber(ARGV[5])
local sent = tonumber(ARGV[7])
local q_used, bw_used = 0, 0
if quota >= 0 then
  for i = 4, #KEYS do q_used = q_used + tonumber(redis.call('GET', KEYS[i]) or '0') end
  if q_used >= quota then refused = 3 end
end
if sent > 0 then
  bw_used = redis.call('INCRBY', KEYS[3], sent)
  redis.call('EXPIRE', KEYS[3], ARGV[6])
elseif bandwidth >= 0 then
  bw_used = tonumber(redis.call('GET', KEYS[3]) or '0')
end
if bandwidth >= 0 and bw_used >= bandwidth and refused == 0 then refused = 4 end
local function gcra(key, interval)
  local tat = tonumber(redis.call('GET', key) or '0')
  local base = math.max(tat, now)
  local ahead = base + interval - now
  if ahead > minute then return false, base, 0, ahead - minute end
  return true, base + interval, math.floor((minute - ahead) / interval), ahead
end
local d_interval, a_interval = tonumber(ARGV[2]), tonumber(ARGV[1])
local d_ok, d_tat, d_left, d_reset = true, 0, 0, 0
local a_ok, a_tat, a_left, a_reset = true, 0, 0, 0
if a_interval > 0 then
  a_ok, a_tat, a_left, a_reset = gcra(KEYS[1], a_interval)
  if not a_ok and refused == 0 then refused, wait = 1, a_reset end
end
if d_interval > 0 then
  d_ok, d_tat, d_left, d_reset = gcra(KEYS[2], d_interval)
  if not d_ok and refused == 0 then refused, wait = 2, d_reset end
end
if refused == 0 then
  if d_interval > 0 then
    redis.call('SET', KEYS[2], string.format('%.0f', d_tat), 'PX', math.ceil(d_reset / 1000) + 1000)
  end
  if a_interval > 0 then
    redis.call('SET', KEYS[1], string.format('%.0f', a_tat), 'PX', math.ceil(a_reset / 1000) + 1000)
  end
  if quota >= 0 then
    q_used = q_used + 1
    redis.call('INCR', KEYS[4])
    redis.call('EXPIRE', KEYS[4], ARGV[4])
  end
end
return {refused, math.floor(wait), a_left, math.floor(a_reset), d_left, math.floor(d_reset),
        q_used, bw_used}
"""

Failure = Literal["open", "closed"]


def _interval_us(per_minute: int | None) -> int:
    return 0 if per_minute is None else max(1, round(60_000_000 / per_minute))


class RedisLimiter:
    def __init__(
        self,
        url: str,
        *,
        failure: Failure = "open",
        pool_size: int = 32,
        timeout: float = 0.25,
        prefix: str = "tg:",
    ) -> None:
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=pool_size,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self.client = Redis(connection_pool=pool)
        self.script = self.client.register_script(SCRIPT)
        self.failure = failure
        self.prefix = prefix
        self.local = MemoryLimiter()  # the fallback while Redis is down and failure is open
        self.down_until = 0.0
        self.down = False
        self.pending: dict[str, int] = {}  # bandwidth key → bytes not yet in Redis
        self.last: dict[str, Verdict] = {}  # app counter → last verdict (headers of refusals)

    def _bandwidth_key(self, grant: Counted, now: float) -> str:
        return f"{self.prefix}b:{grant.app_counter}:{grant.limits.calendar.day(now).buckets[0]}"

    async def acquire(self, grant: Counted, now: float) -> Verdict:
        if self.down and now < self.down_until:
            return self._without_redis(grant, now)
        limits = grant.limits
        prefix = self.prefix
        bandwidth_key = self._bandwidth_key(grant, now)
        keys = [
            f"{prefix}r:{grant.app_counter}",
            f"{prefix}d:{grant.developer_counter}",
            bandwidth_key,
        ]
        quota_ttl = 0
        if limits.quota is not None:
            window = limits.quota_window(now)
            keys.extend(f"{prefix}q:{grant.app_counter}:{bucket}" for bucket in window.buckets)
            quota_ttl = math.ceil(window.ends - now) + window.seconds + DAY_SECONDS
        sent = self.pending.pop(bandwidth_key, 0)
        args = (
            _interval_us(limits.rate),
            _interval_us(limits.developer_rate),
            -1 if limits.quota is None else limits.quota,
            quota_ttl,
            -1 if limits.bandwidth is None else limits.bandwidth,
            2 * DAY_SECONDS,
            sent,
        )
        try:
            answer = await self.script(keys=keys, args=args)
        except (TimeoutError, RedisError, OSError) as error:
            if sent:
                self.pending[bandwidth_key] = self.pending.get(bandwidth_key, 0) + sent
            self._went_down(error, now)
            return self._without_redis(grant, now)
        if self.down:
            self.down = False
            log.warning("Redis is reachable again; limits are shared across nodes again")
        verdict = Verdict()
        (
            verdict.refused,
            wait,
            verdict.app_left,
            app_reset,
            verdict.developer_left,
            developer_reset,
            verdict.quota_used,
            verdict.bandwidth_used,
        ) = answer
        verdict.wait = wait / 1e6
        verdict.app_reset = app_reset / 1e6
        verdict.developer_reset = developer_reset / 1e6
        self.last[grant.app_counter] = verdict
        return verdict

    def _went_down(self, error: BaseException, now: float) -> None:
        self.down_until = now + RETRY_AFTER_DOWN
        if not self.down:
            self.down = True
            fallback = (
                "in-process limits on this node" if self.failure == "open" else "refusing (503)"
            )
            log.error("Redis unreachable (%s); %s until it answers again", error, fallback)

    def _without_redis(self, grant: Counted, now: float) -> Verdict:
        if self.failure == "open":
            return self.local.acquire(grant, now)
        verdict = Verdict()
        verdict.refused = UNAVAILABLE
        verdict.wait = max(self.down_until - now, RETRY_AFTER_DOWN)
        return verdict

    def peek(self, grant: Counted, now: float) -> Verdict:
        """The last state this node saw for the application (no round trip)."""
        known = self.last.get(grant.app_counter)
        return known if known is not None else self.local.peek(grant, now)

    def spend_bytes(self, grant: Counted, sent: int, now: float) -> None:
        key = self._bandwidth_key(grant, now)
        self.pending[key] = self.pending.get(key, 0) + sent
        if self.down and self.failure == "open":
            self.local.spend_bytes(grant, sent, now)

    async def flush_bytes(self) -> None:
        """Add the bytes no request has carried to Redis yet (run every second)."""
        if not self.pending or self.down:
            return
        pending, self.pending = self.pending, {}
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key, sent in pending.items():
                    pipe.incrby(key, sent)
                    pipe.expire(key, 2 * DAY_SECONDS)
                await pipe.execute()
        except (TimeoutError, RedisError, OSError):
            for key, sent in pending.items():
                self.pending[key] = self.pending.get(key, 0) + sent

    async def close(self) -> None:
        await self.flush_bytes()
        await self.client.aclose()
