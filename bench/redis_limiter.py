"""Client CPU per Redis limit decision, for the ways of sending the limiter's script.

    uv run python bench/redis_limiter.py                      (20,000 decisions a round)
    uv run --with hiredis python bench/redis_limiter.py       (adds redis-py + hiredis)
    uv run python bench/redis_limiter.py --decisions 50000 --rounds 7 --concurrency 1

A private redis-server on a free loopback port (never the machine's own Redis). Each variant makes
`--decisions` decisions from `--concurrency` tasks on one event loop, all with the keys and
arguments `RedisLimiter` sends for one plan (rate, quota and bandwidth, none of them biting); the
client's cost is `time.process_time()` of this process over the round (so other jobs on the
machine do not count), divided by the decisions. The rounds run the variants in turns (A, B, C,
A, B, C, ...), so a drift of the machine's load falls on all alike; the median is printed.
redis-server's own CPU per decision (its `INFO cpu`) is printed beside it.

Variants:
  redis-py           redis-py asyncio as the limiter used it before: a blocking pool, the
                     registered script, its pure-Python parser
  redis-py+hiredis   the same with the hiredis parser (only when `hiredis` is importable)
  redis-py batched   the scripts of one event-loop turn in one redis-py pipeline
  lean               termgate's own client (`gateway/traffic/redis_wire.py`): one pipelined
                     connection, the command encoded by hand, the reply parsed by hand
  lean acquire       the whole `RedisLimiter.acquire` on the lean client (keys, arguments,
                     the call and the verdict)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from termgate.gateway.traffic.plan_limits import PlanLimits
from termgate.gateway.traffic.redis_limiter import EVALSHA, SCRIPT, RedisLimiter, script_call
from termgate.gateway.traffic.redis_wire import RedisWire, bulk

NOON = datetime(2027, 3, 15, 12, tzinfo=UTC).timestamp()
Decide = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class Grant:
    limits: PlanLimits
    key_id: str = "key-1"
    app_counter: str = "bench-app"
    developer_counter: str = "bench-dev"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def redis_server() -> Any:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    process = subprocess.Popen(
        [*command, "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(5)


def redis_py(url: str, parser: str) -> Redis:
    """redis-py's client with the options `RedisLimiter` used before (and `parser`)."""
    from redis._parsers import _AsyncHiredisParser, _AsyncRESP2Parser

    parser_class = _AsyncHiredisParser if parser == "hiredis" else _AsyncRESP2Parser
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=32,
        timeout=0.25,
        socket_timeout=0.25,
        socket_connect_timeout=0.25,
        retry=Retry(NoBackoff(), 0),
        parser_class=parser_class,
    )
    return Redis(connection_pool=pool)


class TurnBatcher:
    """The scripts asked for in one event-loop turn go in one redis-py pipeline."""

    def __init__(self, client: Redis, sha: str) -> None:
        self.client, self.sha = client, sha
        self.queue: list[tuple[list[str], tuple[bytes, ...], asyncio.Future[Any]]] = []
        self.tasks: set[asyncio.Task[None]] = set()

    async def call(self, keys: list[str], args: tuple[bytes, ...]) -> Any:
        future = asyncio.get_running_loop().create_future()
        self.queue.append((keys, args, future))
        if len(self.queue) == 1:
            asyncio.get_running_loop().call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self.queue = self.queue, []
        task = asyncio.ensure_future(self._run(batch))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(
        self, batch: list[tuple[list[str], tuple[bytes, ...], asyncio.Future[Any]]]
    ) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for keys, args, _ in batch:
                pipe.evalsha(self.sha, len(keys), *keys, *args)
            results = await pipe.execute(raise_on_error=False)
        for (_, _, future), result in zip(batch, results, strict=True):
            future.set_result(result)


def redis_cpu(url: str) -> float:
    import redis

    info = redis.Redis.from_url(url).info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def variants(url: str, limiter: RedisLimiter) -> dict[str, Decide]:
    limits = PlanLimits(rate=10**7, quota=10**12, bandwidth=10**15)
    grant = Grant(limits)
    keys = limiter.keys(grant, NOON)  # type: ignore[arg-type]
    # What `RedisLimiter.acquire` sends for this plan (no bytes pending, Redis' clock).
    rate = (limits.app_interval, limits.app_tolerance, 0, 0)
    args = (*rate, 10**12, 10**15, 172_800, 3_000_000, 0, -1)
    # The script's one ARGV: the key count, the arguments, where the keys start.
    packed = (struct.pack(f"<{len(args) + 2}q", len(keys), *args, 0),)
    chosen: dict[str, Decide] = {}
    plain = redis_py(url, "python")
    script = plain.register_script(SCRIPT)
    chosen["redis-py"] = lambda: script(keys=keys, args=packed)
    try:
        import hiredis  # noqa: F401
    except ImportError:
        print("redis-py+hiredis: skipped (hiredis is not installed; uv run --with hiredis ...)")
    else:
        fast = redis_py(url, "hiredis").register_script(SCRIPT)
        chosen["redis-py+hiredis"] = lambda: fast(keys=keys, args=packed)
    sha = await plain.script_load(SCRIPT)
    batcher = TurnBatcher(redis_py(url, "python"), sha)
    chosen["redis-py batched"] = lambda: batcher.call(keys, packed)
    wire = RedisWire(url, timeout=0.25)
    call = script_call(EVALSHA, [bulk(key.encode()) for key in keys], len(keys), packed[0])
    chosen["lean"] = lambda: wire.call(call)
    chosen["lean acquire"] = lambda: limiter.acquire(grant, NOON)  # type: ignore[arg-type]
    for decide in chosen.values():  # connect and check each once before measuring
        await decide()
    return chosen


async def one_round(decide: Decide, decisions: int, concurrency: int) -> float:
    """µs of this process's CPU per decision."""
    share = decisions // concurrency

    async def worker() -> None:
        for _ in range(share):
            await decide()

    started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.process_time() - started) / (share * concurrency) * 1e6


async def main(options: argparse.Namespace) -> None:
    with redis_server() as url:
        limiter = RedisLimiter(url, timeout=0.25, prefix="bench:")
        chosen = await variants(url, limiter)
        client: dict[str, list[float]] = {name: [] for name in chosen}
        server: dict[str, list[float]] = {name: [] for name in chosen}
        for round_number in range(options.rounds):
            names = list(chosen)
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                before = redis_cpu(url)
                client[name].append(
                    await one_round(chosen[name], options.decisions, options.concurrency)
                )
                server[name].append((redis_cpu(url) - before) / options.decisions * 1e6)
        await limiter.close()
    load = os.getloadavg()
    print(
        f"\n{options.decisions:,} decisions a round, {options.concurrency} tasks, "
        f"{options.rounds} rounds in turns; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    print(f"{'variant':<20} {'client CPU µs/decision':>24} {'redis-server CPU µs':>20}   rounds")
    for name in chosen:
        rounds = " ".join(f"{value:.0f}" for value in client[name])
        print(
            f"{name:<20} {statistics.median(client[name]):>24.1f} "
            f"{statistics.median(server[name]):>20.1f}   {rounds}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    asyncio.run(main(parser.parse_args()))
