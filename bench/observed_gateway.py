"""The gateway as `python -m termgate.server` runs it, watched from inside for the benches.

    TERMGATE_BENCH_REPORT=sizes.jsonl python bench/observed_gateway.py

Same settings, server and options as `python -m termgate.server` (`run_server`, with this module's
factory). Each worker appends one JSON line to `TERMGATE_BENCH_REPORT` every
`TERMGATE_BENCH_REPORT_SECONDS` (default 10): its resident memory and the sizes of everything the
gateway keeps in memory that traffic could grow (the tenant memory, the token caches, the usage
buffer, the limiter's counters, the upstream pool), and the garbage collector's work so far
(collections per generation and the seconds they took, timed with `gc.callbacks`). Reading these
costs a few dict lengths every interval, nothing per request.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from termgate.core import logs
from termgate.server import TermgateServer, run_server
from termgate.settings import get_settings

REPORT = "TERMGATE_BENCH_REPORT"
REPORT_SECONDS = "TERMGATE_BENCH_REPORT_SECONDS"


class GCTimer:
    """Seconds spent in collections, per generation, from `gc.callbacks`."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.collections = [0, 0, 0]
        self.longest = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        spent = time.perf_counter() - self._started
        generation = info["generation"]
        self.seconds[generation] += spent
        self.collections[generation] += 1
        self.longest = max(self.longest, spent)


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def sizes(server: TermgateServer, timer: GCTimer) -> dict[str, Any]:
    gateway = server.gateway
    snapshot = gateway.snapshots.current
    resolver = gateway.resolver
    tokens = snapshot.tokens
    memory = gateway.traffic.memory
    pool = gateway.pool
    return {
        "at": round(time.time(), 3),
        "pid": os.getpid(),
        "rss_kib": rss_kib(),
        "snapshot_keys": len(snapshot.keys),
        "tenant_ids": sum(len(owners) for owners in resolver.owners.values()),
        "tenant_rosters": len(resolver.rosters),
        "tenant_roster_weight": resolver.rosters.total,
        "tenant_walks": len(resolver._walks),
        "token_bearers": len(tokens._known) if tokens is not None else 0,
        "token_claims": len(tokens.verifier._known) if tokens is not None else 0,
        "usage_buffer": len(gateway.usage.buffer),
        "usage_written": gateway.usage.written,
        "usage_dropped": gateway.usage.dropped,
        "limiter_counters": (
            len(memory.app_tat)
            + len(memory.developer_tat)
            + len(memory.quota)
            + len(memory.bandwidth)
            if memory is not None
            else 0
        ),
        "in_flight": len(gateway.traffic.in_flight.counts),
        "pool_idle": len(pool._idle),
        "pool_busy": pool.busy,
        "gc_collections": list(timer.collections),
        "gc_seconds": [round(value, 6) for value in timer.seconds],
        "gc_longest_s": round(timer.longest, 6),
        "gc_frozen": gc.get_freeze_count(),
    }


class ObservedServer(TermgateServer):
    """The gateway's server with a reporting task beside its own."""

    timer = GCTimer()

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        gc.callbacks.append(self.timer)
        super().__rsgi_init__(loop)
        target = os.environ.get(REPORT)
        if target:
            interval = float(os.environ.get(REPORT_SECONDS, "10"))
            self._tasks.append(loop.create_task(self._report_forever(Path(target), interval)))

    async def _report_forever(self, target: Path, interval: float) -> None:
        while True:
            with target.open("a") as report:
                report.write(json.dumps(sizes(self, self.timer)) + "\n")
            await asyncio.sleep(interval)


def create_app() -> ObservedServer:
    """Granian's factory, as `termgate.server.create_app`."""
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format)
    return ObservedServer(settings)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    run_server(get_settings(), app="observed_gateway:create_app")
