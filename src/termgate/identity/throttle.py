"""Sign-in throttling (clause 3.3 c): failed sign-ins per account and per source address.

Each counter is a GCRA cell (the arithmetic of the gateway's limiter, `gateway.traffic.gcra`,
over a configurable window instead of a minute): N attempts within the window fill it, and it
frees one attempt every window/N. An attempt is counted before its password is checked (so
concurrent attempts cannot slip past a full counter) and given back if the password was right,
so only failures add up. While either counter is full the attempt is refused before any argon2
work, with the seconds until it may be tried again. Accounts are counted by the name typed, not
by a row, so an unknown account is throttled exactly like a known one.

With Redis configured (cluster mode) the counters live there, so they hold across nodes; if
Redis does not answer, this node's own counters stand in until it does.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "termgate:signin:"
RETRY_AFTER_DOWN = 1.0  # seconds before Redis is tried again after a failure
SWEEP_AT = 10_000  # counters held in memory before the drained ones are dropped

# KEYS[1]: the counter. ARGV: interval ms, window ms, 'take' or 'give'.
# 'take': admit an attempt and count it, or answer the milliseconds to wait (nothing counted).
# 'give': take one attempt back (it succeeded). Redis' own clock drives every node's counters.
SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if ARGV[3] == 'take' then
  local pushed = math.max(tat, now) + interval
  if pushed - now > window then return math.ceil(pushed - now - window) end
  redis.call('SET', KEYS[1], string.format('%.0f', pushed), 'PX', math.ceil(pushed - now) + 1000)
elseif tat - interval > now then
  redis.call('SET', KEYS[1], string.format('%.0f', tat - interval), 'PX', math.ceil(tat - now))
else
  redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True)
class ThrottlePolicy:
    account_failures: int
    address_failures: int
    window: float  # seconds


def _counter(kind: str, name: str) -> str:
    digest = hashlib.sha256(name.strip().lower().encode()).hexdigest()[:32]
    return f"{PREFIX}{kind}:{digest}"


class MemoryCells:
    """This process' counters: key → theoretical arrival time (monotonic seconds)."""

    def __init__(self) -> None:
        self.tat: dict[str, float] = {}

    def take(self, key: str, interval: float, window: float) -> float:
        now = time.monotonic()
        pushed = max(self.tat.get(key, 0.0), now) + interval
        if pushed - now > window:
            return pushed - now - window
        if len(self.tat) >= SWEEP_AT:
            self.tat = {name: at for name, at in self.tat.items() if at > now}
        self.tat[key] = pushed
        return 0.0

    def give(self, key: str, interval: float) -> None:
        tat = self.tat.get(key)
        if tat is not None:
            self.tat[key] = tat - interval


class SignInThrottle:
    """The counters of the three sign-in pages ("portal", "console", "connect")."""

    def __init__(self, policy: ThrottlePolicy, redis_url: str | None = None) -> None:
        self.policy = policy
        self.memory = MemoryCells()
        self.redis = Redis.from_url(redis_url, socket_timeout=0.5) if redis_url else None
        self.down_until = 0.0

    def _cells(self, account: str, address: str, plane: str) -> list[tuple[str, float]]:
        """(counter, emission interval): the address (every sign-in page), the account (this
        page's accounts)."""
        window = self.policy.window
        return [
            (_counter("address", address), window / self.policy.address_failures),
            (_counter(f"{plane}:account", account), window / self.policy.account_failures),
        ]

    async def _redis(self, key: str, interval: float, mode: str) -> float | None:
        """Redis' answer, or None to count on this node (no Redis, or down: tried again after
        a second, as the gateway's limiter does)."""
        if self.redis is None or time.monotonic() < self.down_until:
            return None
        window = round(self.policy.window * 1000)
        try:
            waited = await self.redis.eval(SCRIPT, 1, key, round(interval * 1000), window, mode)
        except (RedisError, OSError) as error:
            log.warning("sign-in throttle: Redis failed (%s); counting on this node", error)
            self.down_until = time.monotonic() + RETRY_AFTER_DOWN
            return None
        return int(waited) / 1000

    async def _take(self, key: str, interval: float) -> float:
        waited = await self._redis(key, interval, "take")
        return self.memory.take(key, interval, self.policy.window) if waited is None else waited

    async def _give(self, key: str, interval: float) -> None:
        if await self._redis(key, interval, "give") is None:
            self.memory.give(key, interval)

    async def attempt(self, account: str, address: str, plane: str) -> int:
        """Counts an attempt for `account` from `address` on `plane`; 0 if it may go ahead, else
        the whole seconds to wait (and nothing is counted)."""
        taken: list[tuple[str, float]] = []
        for key, interval in self._cells(account, address, plane):
            wait = await self._take(key, interval)
            if wait > 0:
                for done in taken:
                    await self._give(*done)
                return max(1, math.ceil(wait))
            taken.append((key, interval))
        return 0

    async def succeeded(self, account: str, address: str, plane: str) -> None:
        """A right password: its attempt does not count against the account or address."""
        for key, interval in self._cells(account, address, plane):
            await self._give(key, interval)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
