"""The cluster limiter: counters in Redis, one Lua script call per event-loop turn (clause 4.4
across nodes).

The script (`redis_limiter.lua`) reads every counter a request touches, decides as
`gcra.decide` does (the same lines in Lua), and only if every limit holds updates them all,
atomically: a refused request spends nothing, and two nodes can never both take the last unit.
The decisions asked for in one event-loop turn go to Redis in one `EVALSHA`, decided in the
order they were asked, each seeing what the ones before it stored; each request gets its own
slice of the one answer. That is one round trip per turn, and redis-server's cost per call
(reading the command, setting up the script) and the client's (the future, the reply) are paid
once for all of them. After a Redis restart or `SCRIPT FLUSH` the `NOSCRIPT` answer is followed
by one `EVAL` of the whole script, which loads it again. Redis' own clock (`TIME`) drives the
rates, so the nodes' clocks need not agree. The commands go over one pipelined connection per
worker (`redis_wire`: the command is encoded here, by hand).

One call names the keys of several applications: fine on one Redis (the deployment this
supports, docs/architecture.md), not on a Redis Cluster, whose scripts must keep to one slot.

Bytes sent (clause 3.3 f) are known only after the response; they are added to the
application's day counter by its next request's script (and by a flush every second for the
rest), so counting them costs no round trip of its own.

Redis unreachable: `open` falls back to this node's in-process limits (logged once per outage),
`closed` refuses with 503 (code 50302). Either way Redis is tried again after a second. A call
that fails fails every decision it carried, each as its own request would have.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import struct
from importlib.resources import files
from typing import Literal

from termgate.gateway.traffic.gcra import SECOND_US, UNAVAILABLE, Verdict
from termgate.gateway.traffic.memory_limiter import MemoryLimiter
from termgate.gateway.traffic.periods import Period
from termgate.gateway.traffic.plan_limits import Counted
from termgate.gateway.traffic.redis_wire import (
    RedisWire,
    Reply,
    ReplyError,
    RespConnection,
    bulk,
    encode,
)

log = logging.getLogger(__name__)

RETRY_AFTER_DOWN = 1.0  # seconds before Redis is tried again after a failure
DAY_SECONDS = 86_400
BANDWIDTH_TTL = b"%d" % (2 * DAY_SECONDS)

# The script: per decision, read the counters, `gcra.decide` in Lua, store what was spent.
SCRIPT = files(__package__).joinpath("redis_limiter.lua").read_text(encoding="utf-8")
SCRIPT_SHA = hashlib.sha1(SCRIPT.encode(), usedforsecurity=False).hexdigest().encode()
EVALSHA = bulk(b"EVALSHA") + bulk(SCRIPT_SHA)
EVAL = bulk(b"EVAL") + bulk(SCRIPT.encode())
OWN_CLOCK = -1  # the script's `now` argument when Redis' clock drives the rates
# The arguments that change per request: quota TTL, bytes sent, now, where its keys start.
CHANGING = struct.Struct("<4q")
ANSWER = struct.Struct("<8q")  # one decision's answer in the script's reply
MAX_ENCODED = 100_000  # applications whose encoded call is kept (then it starts afresh)
# Decisions per call at most: the script holds Redis for all of them (~10 µs each).
MAX_BATCH = 64

Failure = Literal["open", "closed"]


def script_call(head: bytes, keys: list[bytes], key_count: int, arguments: bytes) -> bytes:
    """`EVALSHA sha` (or `EVAL script`: `head`) with `key_count` keys (`keys`: RESP bulk strings,
    one or several per piece) and the decisions' packed arguments as the one ARGV, in RESP."""
    count = b"%d" % key_count
    return b"*%d\r\n%s$%d\r\n%s\r\n%s$%d\r\n%s\r\n" % (
        4 + key_count,
        head,
        len(count),
        count,
        b"".join(keys),
        len(arguments),
        arguments,
    )


class Encoded:
    """A grant's part of a script call as far as it is the same from request to request: its
    keys in RESP and its first eight arguments packed, for the day and quota period they were
    made in."""

    __slots__ = (
        "bandwidth_key",
        "day",
        "developer",
        "fixed",
        "key_count",
        "keys",
        "limits",
        "quota",
    )

    def __init__(
        self, limiter: RedisLimiter, grant: Counted, day: Period, quota: Period | None
    ) -> None:
        self.limits, self.day, self.quota = grant.limits, day, quota
        self.developer = grant.developer_counter
        keys = limiter.keys_in(grant, day, quota)
        self.bandwidth_key = keys[2]
        self.key_count = len(keys)
        self.keys = b"".join(bulk(key.encode()) for key in keys)
        limits = grant.limits
        self.fixed = struct.pack(
            "<8q",
            len(keys),
            limits.app_interval,
            limits.app_tolerance,
            limits.developer_interval,
            limits.developer_tolerance,
            -1 if limits.quota is None else limits.quota,
            -1 if limits.bandwidth is None else limits.bandwidth,
            2 * DAY_SECONDS,
        )


class Batch:
    """The decisions of one event-loop turn: one script call, one future per decision. It
    receives the call's reply itself (`redis_wire.Receiver`) and hands each decision its slice
    at once, or the call's failure to every one."""

    __slots__ = ("arguments", "connection", "futures", "key_count", "keys", "loaded", "starts")

    def __init__(self) -> None:
        self.futures: list[asyncio.Future[bytes]] = []
        self.keys: list[bytes] = []
        self.starts: dict[Encoded, int] = {}  # a grant's keys → where they start in KEYS
        self.arguments: list[bytes] = []
        self.key_count = 0
        self.connection: RespConnection | None = None
        self.loaded = False  # sent again as `EVAL` to a Redis without the script: not a third time

    def add(
        self, encoded: Encoded, quota_ttl: int, sent: int, now: int, future: asyncio.Future[bytes]
    ) -> None:
        """A decision; its application's keys go in once (Redis reads fewer, smaller KEYS)."""
        self.futures.append(future)
        start = self.starts.get(encoded)
        if start is None:
            start = self.starts[encoded] = self.key_count
            self.keys.append(encoded.keys)
            self.key_count += encoded.key_count
        self.arguments.append(encoded.fixed + CHANGING.pack(quota_ttl, sent, now, start))

    def send(self, connection: RespConnection) -> None:
        """The call, as `EVALSHA` (`EVAL` once Redis has answered `NOSCRIPT`)."""
        self.connection = connection
        head = EVAL if self.loaded else EVALSHA
        command = script_call(head, self.keys, self.key_count, b"".join(self.arguments))
        connection.send_now(command, self)

    def done(self) -> bool:
        return False  # every reply is handed on, even when all its callers were cancelled

    def set_result(self, reply: Reply, /) -> None:
        if isinstance(reply, ReplyError):
            if not self.loaded and str(reply).startswith("NOSCRIPT") and self.connection:
                self.loaded = True
                self.send(self.connection)  # as EVAL: runs the script and caches it
            else:
                self.set_exception(reply)
            return
        if not isinstance(reply, bytes) or len(reply) != ANSWER.size * len(self.futures):
            self.set_exception(ConnectionError(f"the limiter's script answered {reply!r:.80}"))
            return
        size = ANSWER.size
        for index, future in enumerate(self.futures):
            if not future.done():  # its caller may have been cancelled
                future.set_result(reply[index * size : (index + 1) * size])

    def set_exception(self, exception: BaseException, /) -> None:
        for future in self.futures:
            if not future.done():
                future.set_exception(exception)


class RedisLimiter:
    def __init__(
        self,
        url: str,
        *,
        failure: Failure = "open",
        timeout: float = 0.25,
        prefix: str = "tg:",
    ) -> None:
        self.client = RedisWire(url, timeout=timeout)
        self.failure = failure
        self.prefix = prefix
        self.local = MemoryLimiter()  # the fallback while Redis is down and failure is open
        self.down_until = 0.0
        self.down = False
        self.errors = 0  # failed calls to Redis (the operator's /metrics)
        self.pending: dict[str, int] = {}  # bandwidth key → bytes not yet in Redis
        self.last: dict[str, Verdict] = {}  # app counter → last verdict (headers of refusals)
        self.encoded: dict[str, Encoded] = {}  # app counter → its call, made once a period
        self.batch: Batch | None = None  # the decisions of this loop turn, not yet sent
        # False: the caller's `now` drives the rates instead of Redis' clock (the conformance
        # test pins the instant so both backends decide the same case).
        self.own_clock = True

    def _bandwidth_key(self, grant: Counted, day: Period) -> str:
        return f"{self.prefix}b:{grant.app_counter}:{day.buckets[0]}"

    def keys_in(self, grant: Counted, day: Period, quota: Period | None) -> list[str]:
        """The script's KEYS: app TAT, developer TAT, bandwidth day, quota buckets (newest
        first)."""
        prefix = self.prefix
        keys = [
            f"{prefix}r:{grant.app_counter}",
            f"{prefix}d:{grant.developer_counter}",
            self._bandwidth_key(grant, day),
        ]
        if quota is not None:
            keys.extend(f"{prefix}q:{grant.app_counter}:{bucket}" for bucket in quota.buckets)
        return keys

    def keys(self, grant: Counted, now: float) -> list[str]:
        """The script's KEYS for a request at `now`."""
        limits = grant.limits
        quota = limits.quota_period(now) if limits.quota is not None else None
        return self.keys_in(grant, limits.calendar.day(now), quota)

    def _encoded(self, grant: Counted, now: float) -> tuple[Encoded, Period | None]:
        """The grant's encoded call, made again when its plan, day or quota period changed."""
        limits = grant.limits
        day = limits.calendar.day(now)
        quota = limits.quota_period(now) if limits.quota is not None else None
        found = self.encoded.get(grant.app_counter)
        if (
            found is None
            or found.day is not day
            or found.quota is not quota
            or found.limits is not limits
            or found.developer != grant.developer_counter
        ):
            if len(self.encoded) >= MAX_ENCODED:
                self.encoded.clear()
            found = self.encoded[grant.app_counter] = Encoded(self, grant, day, quota)
        return found, quota

    async def acquire(self, grant: Counted, now: float) -> Verdict:
        if self.down and now < self.down_until:
            return self._without_redis(grant, now)
        encoded, quota = self._encoded(grant, now)
        bandwidth_key = encoded.bandwidth_key
        quota_ttl = 0
        if quota is not None:
            quota_ttl = math.ceil(quota.ends - now) + quota.seconds + DAY_SECONDS
        sent = self.pending.pop(bandwidth_key, 0)
        moment = OWN_CLOCK if self.own_clock else int(now * SECOND_US)
        try:
            answer = await self._decide(encoded, quota_ttl, sent, moment)
        except (TimeoutError, ReplyError, OSError) as error:
            self.errors += 1
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
            verdict.wait,
            verdict.app_left,
            verdict.app_reset,
            verdict.developer_left,
            verdict.developer_reset,
            verdict.quota_used,
            verdict.bandwidth_used,
        ) = ANSWER.unpack(answer)
        self.last[grant.app_counter] = verdict
        return verdict

    async def _decide(self, encoded: Encoded, quota_ttl: int, sent: int, moment: int) -> bytes:
        """This decision's part of the answer of the turn's script call."""
        client = self.client
        connection = client.connection
        if connection is None or connection.closed:
            connection = await client.connect()
        future: asyncio.Future[bytes] = connection.loop.create_future()
        batch = self.batch
        if batch is None:
            batch = self.batch = Batch()
            connection.loop.call_soon(self._send, batch)
        batch.add(encoded, quota_ttl, sent, moment, future)
        if len(batch.futures) >= MAX_BATCH:
            self.batch = None  # the next decision opens a call of its own
        return await future

    def _send(self, batch: Batch) -> None:
        """The turn's decisions, in one script call."""
        if self.batch is batch:
            self.batch = None
        connection = self.client.connection
        if connection is None or connection.closed:
            batch.set_exception(ConnectionError("the connection to Redis is closed"))
            return
        batch.send(connection)

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
        verdict.wait = round(max(self.down_until - now, RETRY_AFTER_DOWN) * SECOND_US)
        return verdict

    def peek(self, grant: Counted, now: float) -> Verdict:
        """The last state this node saw for the application (no round trip)."""
        known = self.last.get(grant.app_counter)
        return known if known is not None else self.local.peek(grant, now)

    def spend_bytes(self, grant: Counted, sent: int, now: float) -> None:
        encoded = self.encoded.get(grant.app_counter)
        day = grant.limits.calendar.day(now)
        key = (
            encoded.bandwidth_key
            if encoded and encoded.day is day
            else self._bandwidth_key(grant, day)
        )
        self.pending[key] = self.pending.get(key, 0) + sent
        if self.down and self.failure == "open":
            self.local.spend_bytes(grant, sent, now)

    async def flush_bytes(self) -> None:
        """Add the bytes no request has carried to Redis yet (run every second)."""
        if not self.pending or self.down:
            return
        pending, self.pending = self.pending, {}
        commands = []
        for key, sent in pending.items():
            name = key.encode()
            commands.append(encode(b"INCRBY", name, b"%d" % sent))
            commands.append(encode(b"EXPIRE", name, BANDWIDTH_TTL))
        try:
            await self.client.call_all(commands)
        except (TimeoutError, ReplyError, OSError):
            self.errors += 1
            for key, sent in pending.items():
                self.pending[key] = self.pending.get(key, 0) + sent

    async def close(self) -> None:
        await self.flush_bytes()
        await self.client.aclose()
