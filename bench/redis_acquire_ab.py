"""`RedisLimiter.acquire` before and after a change, side by side in one process: client CPU and
redis-server CPU per decision.

    uv run python bench/redis_acquire_ab.py --before ../before/src --concurrency 32
    uv run python bench/redis_acquire_ab.py --before ../before/src --concurrency 1 --decisions 5000
    uv run python bench/redis_acquire_ab.py --before ../before/src --concurrency 32 --apps 32

"Before" is `redis_wire.py`, `redis_limiter.py` and `redis_limiter.lua` of another checkout's
`src` folder, loaded under other names; "after" is this checkout's. Both decide on one private
redis-server (own key prefixes) as the gateway does: every decision carries the bytes of the
previous response (bench plan: rate, quota and bandwidth, none biting; task i asks for
application i mod `--apps`, all of one developer). Rounds alternate
(before, after, after, before, ...); client CPU is `time.process_time()` of this process,
redis-server CPU its `INFO cpu`, both per decision; the medians are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from redis_limiter import NOON, Grant, redis_cpu, redis_server
from termgate.gateway.traffic import redis_limiter
from termgate.gateway.traffic.plan_limits import PlanLimits

BODY = 4864  # bytes of the bench's response


def load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def before_module(src: Path, scratch: Path) -> ModuleType:
    """The other checkout's limiter on its own client and script."""
    traffic = src / "termgate" / "gateway" / "traffic"
    load("before_redis_wire", traffic / "redis_wire.py")
    text = (traffic / "redis_limiter.py").read_text()
    text = text.replace(
        "from termgate.gateway.traffic.redis_wire import", "from before_redis_wire import"
    ).replace(
        'files(__package__).joinpath("redis_limiter.lua").read_text(encoding="utf-8")',
        repr((traffic / "redis_limiter.lua").read_text()),
    )
    copy = scratch / "before_redis_limiter.py"
    copy.write_text(text)
    return load("before_redis_limiter", copy)


async def measure(options: argparse.Namespace, before: ModuleType) -> None:
    limits = PlanLimits(rate=10**9, developer_rate=10**9, quota=10**12, bandwidth=10**15)
    grants = [Grant(limits, app_counter=f"bench-app-{number}") for number in range(options.apps)]
    with redis_server() as url:
        limiters: dict[str, Any] = {
            # A generous timeout: a round where Redis seemed away would measure the fallback.
            "before": before.RedisLimiter(url, prefix="before:", timeout=10.0),
            "after": redis_limiter.RedisLimiter(url, prefix="after:", timeout=10.0),
        }

        async def decide(limiter: Any, grant: Grant) -> None:
            limiter.spend_bytes(grant, BODY, NOON)
            await limiter.acquire(grant, NOON)

        for limiter in limiters.values():
            for grant in grants:
                await decide(limiter, grant)
        client: dict[str, list[float]] = {name: [] for name in limiters}
        server: dict[str, list[float]] = {name: [] for name in limiters}
        share = options.decisions // options.concurrency
        for number in range(options.rounds):
            order = list(limiters) if number % 2 == 0 else list(limiters)[::-1]
            for name in order:
                limiter = limiters[name]

                async def worker(grant: Grant, limiter: Any = limiter) -> None:
                    for _ in range(share):
                        await decide(limiter, grant)

                redis_before, started = redis_cpu(url), time.process_time()
                tasks = range(options.concurrency)
                await asyncio.gather(*(worker(grants[task % len(grants)]) for task in tasks))
                spent = time.process_time() - started
                decisions = share * options.concurrency
                client[name].append(spent / decisions * 1e6)
                server[name].append((redis_cpu(url) - redis_before) / decisions * 1e6)
        for name, limiter in limiters.items():
            if limiter.errors:
                sys.exit(f"{name}: {limiter.errors} calls to Redis failed; measure again")
            await limiter.close()
    load_average = " ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"{options.decisions:,} decisions a round, {options.concurrency} tasks, "
        f"{options.apps} applications, "
        f"{options.rounds} rounds; load average {load_average}"
    )
    for name in limiters:
        rounds = " ".join(f"{value:.1f}" for value in client[name])
        print(
            f"{name:<7} client CPU {statistics.median(client[name]):5.1f} µs/decision  "
            f"redis-server {statistics.median(server[name]):5.1f} µs/decision   rounds {rounds}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="src folder of the 'before'")
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--apps", type=int, default=1, help="applications the tasks ask for")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        before = before_module(options.before.resolve(), Path(scratch))
        asyncio.run(measure(options, before))


if __name__ == "__main__":
    main()
