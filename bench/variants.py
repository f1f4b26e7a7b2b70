"""Gateway variants side by side: one upstream, one gateway per variant, wrk against each in turns.

    uv run python bench/variants.py --rounds 3 --seconds 4 \
        '{"default": {}, "flush 0.25 s": {"env": {"TERMGATE_USAGE_FLUSH_SECONDS": "0.25"}},
          "before": {"pythonpath": "../before/src"}}'

A variant is settings (`env`: TERMGATE_* variables) and/or another checkout's code
(`pythonpath`: its `src`), served as `python -m termgate.server` serves it. Each
gateway has its own copy of one seeded database (`prepare_database`, as run.py); the upstream,
request and pinning are run.py's (servers on CPU 1, wrk on CPU 0). Each round runs every
variant once, in alternating order; printed per run and as medians: req/s, p50, p99, and the
CPU µs per request of the gateway (all its processes, /proc) and of the upstream.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness import warn_other_servers
from loadgen import run_wrk, write_script
from targets import (
    Processes,
    cpu_seconds,
    seeded_gateway,
    start_seeded_upstream,
    wait_for_200,
    wait_until_quiet,
)


def run(variants: dict[str, dict[str, Any]], rounds: int, seconds: float) -> None:
    warn_other_servers()
    tmp = Path(tempfile.mkdtemp(prefix="termgate-variants-"))
    processes = Processes(logs=tmp)
    try:
        started = start_seeded_upstream(processes, tmp)
        upstream, path, headers = started.port, started.path, started.headers
        script = write_script(tmp, headers)
        urls: dict[str, str] = {}
        for number, (name, variant) in enumerate(variants.items()):
            source = variant.get("pythonpath")
            port, env = seeded_gateway(tmp, f"variant-{number}", upstream, source)
            env |= variant.get("env", {})
            command = [sys.executable, "-m", "termgate.server"]
            processes.start(name, command, cpus="1", env=env)
            wait_for_200(processes, name, port, path, headers)
            urls[name] = f"http://127.0.0.1:{port}{path}"
            run_wrk(urls[name], script, seconds=2, connections=32, threads=1, cpus="0")
        measured(processes, urls, script, rounds, seconds)
    finally:
        processes.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


def measured(
    processes: Processes, urls: dict[str, str], script: Path, rounds: int, seconds: float
) -> None:
    results: dict[str, list[tuple[float, ...]]] = {name: [] for name in urls}
    upstream = processes.session("upstream")
    for round_ in range(rounds):
        for name in urls if round_ % 2 == 0 else reversed(urls):
            session = processes.session(name)
            gateway, served = cpu_seconds(session), cpu_seconds(upstream)
            wrk = run_wrk(urls[name], script, seconds=seconds, connections=32, threads=1, cpus="0")
            wait_until_quiet(processes.sessions())  # its last usage batch: its CPU, not the next's
            requests = wrk.rps * seconds
            figures = (
                wrk.rps,
                wrk.p50_ms,
                wrk.p99_ms,
                (cpu_seconds(session) - gateway) * 1e6 / requests,
                (cpu_seconds(upstream) - served) * 1e6 / requests,
            )
            results[name].append(figures)
            print(f"round {round_ + 1} {line(name, figures)} load {os.getloadavg()[0]:.1f}")
    for name, runs in results.items():
        medians = tuple(statistics.median(run[index] for run in runs) for index in range(5))
        print(f"median  {line(name, medians)}")


def line(name: str, figures: tuple[float, ...]) -> str:
    rps, p50, p99, gateway, upstream = figures
    return (
        f"{name:16} {rps:8,.0f} req/s p50 {p50:6.2f} ms p99 {p99:7.2f} ms "
        f"CPU µs/req gateway {gateway:6.1f} upstream {upstream:5.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="?", default='{"default": {}}', help="JSON, see above")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    run(json.loads(args.variants), args.rounds, args.seconds)


if __name__ == "__main__":
    main()
