"""Soak: the whole chain at 80 % of its measured capacity for ten minutes, memory sampled.

    uv run python bench/soak.py                 # 10 minutes, writes docs/soak-rss.csv and .svg
    uv run python bench/soak.py --minutes 1 --output-dir /tmp/soak

Starts the upstream and one gateway (`chain.py`: the bench's database, key, token and request,
in-process limits; wrk on CPU 0, the servers on CPU 1), measures the chain's capacity with wrk
at full speed, then loads it at `--load` (0.8) of that with wrk paced by its Lua `delay()` (the
pause before each request on each connection, corrected every interval towards the target rate).
Every `--sample-seconds` (10) it records the requests served, p50/p99, the resident memory of the
gateway's worker and of its whole process group, and what the worker reports of itself
(`observed_gateway.py`): the tenant memory (the company map), the token caches, the usage
buffer, the limiter's counters, the upstream pool, the collector's work.

It exits 1 when memory grows beyond the bounds: the worker's RSS at the end more than
`--max-growth-mib` (16) above its level after the first minute, or any of the sizes still rising
in the second half (above 1.5 times its first-half peak plus 100), or usage events dropped.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from chain import Chain, session_pids, spread_paths, start_chain, worker_pid
from harness import console, run_bench
from loadgen import WrkResult, run_wrk, write_script
from svg_plot import line_chart
from targets import ROOT, Processes

# What the gateway keeps that traffic could grow; each must stop growing.
SIZES = (
    "tenant_ids",
    "tenant_rosters",
    "tenant_walks",
    "token_bearers",
    "token_claims",
    "usage_buffer",
    "limiter_counters",
    "in_flight",
    "pool_idle",
    "pool_busy",
    "gc_frozen",
)
SPREAD = """
local paths = {{ {paths} }}
request = function()
  return wrk.format(nil, paths[math.random(#paths)])
end
"""
PACING = """
local base = {base}
local extra = {extra}
delay = function()
  if math.random() < extra then return base + 1 end
  return base
end
"""


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--load", type=float, default=0.8, help="share of the measured capacity")
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--paths",
        type=int,
        default=1000,
        help="requests spread over this many paths of the consent's companies and employees "
        "(0: the bench's one request)",
    )
    parser.add_argument("--max-growth-mib", type=float, default=16.0)
    parser.add_argument("--output-dir", type=Path, default=ROOT / "docs")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "soak.json")
    return parser.parse_args(argv)


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def last_report(chain: Chain) -> dict[str, Any]:
    lines = chain.report.read_text().splitlines() if chain.report.exists() else []
    return json.loads(lines[-1]) if lines else {}


def load_script(tmp: Path, chain: Chain, paths: list[str], delay_ms: float | None) -> Path:
    """wrk's script: each request on one of `paths` at random (none: the chain's request), with
    a pause of `delay_ms` on average before it (whole ms only: the fraction is the chance of one
    more; None: no pause)."""
    script = write_script(tmp, chain.headers)
    text = script.read_text()
    if paths:
        text += SPREAD.format(paths=", ".join(json.dumps(path) for path in paths))
    if delay_ms is not None:
        base = int(delay_ms)
        text += PACING.format(base=base, extra=delay_ms - base)
    script.write_text(text)
    return script


def grew(rows: list[dict[str, Any]], name: str) -> bool:
    half = len(rows) // 2
    first = max(row[name] for row in rows[:half]) if half else 0
    return max(row[name] for row in rows[half:]) > 1.5 * first + 100


def plot(rows: list[dict[str, Any]], target: float, directory: Path) -> None:
    minutes = [row["minute"] for row in rows]
    svg = line_chart(
        f"Gateway memory over the soak (whole chain at ~{target:,.0f} req/s)",
        "minutes",
        "RSS MiB",
        minutes,
        {
            "gateway worker RSS": [row["worker_rss_kib"] / 1024 for row in rows],
            "gateway, all processes": [row["gateway_rss_kib"] / 1024 for row in rows],
        },
    )
    (directory / "soak-rss.svg").write_text(svg)


def soak(args: argparse.Namespace, tmp: Path, processes: Processes) -> dict[str, Any]:
    chain = start_chain(processes, tmp, "1", report_seconds=args.sample_seconds)
    session = processes.session("termgate")
    worker = worker_pid(session)
    paths = spread_paths(chain, args.paths) if args.paths else []
    full = load_script(tmp, chain, paths, None)
    run_wrk(chain.url, full, seconds=3, connections=32, threads=1, cpus="0")  # warm-up
    capacity = run_wrk(chain.url, full, seconds=10, connections=32, threads=1, cpus="0").rps
    target = args.load * capacity
    # Each connection: one request per connections/target seconds, minus the time it takes.
    delay_ms = max(0.0, args.connections / target * 1000 - 1.0)
    console.print(
        f"capacity {capacity:,.0f} req/s; soak at {target:,.0f} req/s ({args.load:.0%}) for "
        f"{args.minutes:g} min, {args.connections} connections, {len(paths) or 1} paths, "
        f"sample every {args.sample_seconds:g} s"
    )
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    while time.monotonic() - started < args.minutes * 60:
        script = load_script(tmp, chain, paths, delay_ms)
        result: WrkResult = run_wrk(
            chain.url,
            script,
            seconds=args.sample_seconds,
            connections=args.connections,
            threads=1,
            cpus="0",
        )
        if result.rps:  # towards the target: the pause takes up what the rate is off by
            period_error = args.connections * (1 / target - 1 / result.rps) * 1000
            delay_ms = max(0.0, delay_ms + period_error)
        report = last_report(chain)
        row = {
            "minute": round((time.monotonic() - started) / 60, 3),
            "rps": round(result.rps, 1),
            "p50_ms": result.p50_ms,
            "p99_ms": result.p99_ms,
            "errors": sum(result.errors.values()),
            "worker_rss_kib": rss_kib(worker),
            "gateway_rss_kib": sum(rss_kib(pid) for pid in session_pids(session)),
            **{name: report.get(name, 0) for name in SIZES},
            "usage_dropped": report.get("usage_dropped", 0),
            "gc_seconds": sum(report.get("gc_seconds", [0.0])),
        }
        rows.append(row)
        console.print(
            f"{row['minute']:6.2f} min {row['rps']:>8,.0f} req/s p99 {row['p99_ms']:6.2f} ms "
            f"worker RSS {row['worker_rss_kib'] / 1024:7.1f} MiB  tenants {row['tenant_ids']} "
            f"tokens {row['token_bearers']}/{row['token_claims']} "
            f"usage buffer {row['usage_buffer']:,}"
        )
    args.output_dir.mkdir(parents=True, exist_ok=True)
    with (args.output_dir / "soak-rss.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, target, args.output_dir)

    settled = [row for row in rows if row["minute"] >= 1.0] or rows
    start_rss, end_rss = settled[0]["worker_rss_kib"], rows[-1]["worker_rss_kib"]
    growth_mib = (end_rss - start_rss) / 1024
    growing = [name for name in SIZES if len(rows) >= 4 and grew(rows, name)]
    failures = []
    if growth_mib > args.max_growth_mib:
        failures.append(f"worker RSS grew {growth_mib:.1f} MiB (bound {args.max_growth_mib:g})")
    if growing:
        failures.append(f"still growing in the second half: {', '.join(growing)}")
    if rows[-1]["usage_dropped"]:
        failures.append(f"{rows[-1]['usage_dropped']} usage events dropped")
    console.print(
        f"worker RSS after the first minute {start_rss / 1024:.1f} MiB, at the end "
        f"{end_rss / 1024:.1f} MiB ({growth_mib:+.1f} MiB); median rate "
        f"{statistics.median(row['rps'] for row in rows):,.0f} req/s; "
        + ("[red]" + "; ".join(failures) + "[/]" if failures else "[green]flat[/]")
    )
    results = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "capacity_rps": round(capacity, 1),
        "target_rps": round(target, 1),
        "paths": len(paths) or 1,
        "worker_rss_growth_mib": round(growth_mib, 2),
        "failures": failures,
        "samples": rows,
    }
    if failures:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2) + "\n")
        raise RuntimeError("memory grew beyond the bounds: " + "; ".join(failures))
    return results


def main(argv: list[str] | None = None) -> int:
    return run_bench(arguments(argv), "termgate-soak-", soak)


if __name__ == "__main__":
    sys.exit(main())
