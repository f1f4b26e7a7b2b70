"""Where the gateway's CPU per request goes: the whole chain under wrk, sampled with py-spy.

    uv run python bench/profile_gateway.py --seconds 15

Starts the upstream and one gateway (`chain.py`, pinned like `run.py`: wrk on CPU 0, the servers on
CPU 1), loads the gateway with wrk, and meanwhile records its worker with py-spy twice: collapsed
stacks (`--format raw`), which this script sorts into the request path's steps, then a flame graph
(SVG). The gateway's own CPU per request (its processes' user + system time from /proc over the
requests wrk completed) turns each step's share of the samples into µs per request. Garbage
collection is not visible to py-spy; the gateway reports its collections' time itself
(`observed_gateway.py`, `gc.callbacks`), and it is printed per request beside the steps.
Output: bench/results/profile/ (steps.json, stacks.txt, flame.svg).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from chain import start_chain, worker_pid
from harness import console, run_bench
from loadgen import WrkResult, run_wrk, write_script
from profile_steps import IDLE, STEPS, step_of
from targets import CLOCK_TICKS, ROOT, Processes, cpu_seconds

OUTPUT = ROOT / "bench" / "results" / "profile"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="of each py-spy recording")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--output", type=Path, default=OUTPUT / "steps.json")
    return parser.parse_args(argv)


def py_spy(pid: int, seconds: float, rate: int, form: str, output: Path) -> None:
    command = [shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"), "record"]
    command += ["--pid", str(pid), "--duration", str(int(seconds)), "--rate", str(rate)]
    command += ["--format", form, "--output", str(output), "--nonblocking"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"py-spy failed:\n{done.stdout}{done.stderr}")


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of each thread of `pid`, by `name/tid`."""
    seconds: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds[f"{name}/{task.name}"] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return seconds


def read_report(path: Path) -> dict[str, object]:
    lines = path.read_text().splitlines() if path.exists() else []
    return json.loads(lines[-1]) if lines else {}


def breakdown(stacks: Path) -> Counter[str]:
    shares: Counter[str] = Counter()
    for line in stacks.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            shares[step_of(stack.split(";"))] += int(count)
    return shares


def profile(args: argparse.Namespace, tmp: Path, processes: Processes) -> dict[str, object]:
    chain = start_chain(processes, tmp, "1", report_seconds=1.0)
    script = write_script(tmp, chain.headers)
    session = processes.session("termgate")
    worker = worker_pid(session)
    run_wrk(chain.url, script, seconds=3, connections=args.connections, threads=1, cpus="0")

    gc_before = read_report(chain.report)
    threads_before = thread_cpu(worker)
    cpu_before = cpu_seconds(session)
    loaded: list[WrkResult] = []
    seconds = 2 * args.seconds + 4
    load = threading.Thread(
        target=lambda: loaded.append(
            run_wrk(
                chain.url,
                script,
                seconds=seconds,
                connections=args.connections,
                threads=1,
                cpus="0",
            )
        )
    )
    load.start()
    time.sleep(1.0)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    stacks = args.output.parent / "stacks.txt"
    py_spy(worker, args.seconds, args.rate, "raw", stacks)
    py_spy(worker, args.seconds, args.rate, "flamegraph", args.output.parent / "flame.svg")
    load.join()
    cpu_us = (cpu_seconds(session) - cpu_before) * 1e6
    threads_after = thread_cpu(worker)
    gc_after = read_report(chain.report)
    result = loaded[0]
    per_request = cpu_us / max(result.requests, 1)

    shares = breakdown(stacks)
    idle = shares.pop(IDLE, 0)
    total = sum(shares.values()) or 1
    gc_seconds = sum(gc_after.get("gc_seconds", [0.0])) - sum(gc_before.get("gc_seconds", [0.0]))  # type: ignore[arg-type]
    gc_us = gc_seconds * 1e6 / max(result.requests, 1)
    console.print(
        f"{result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms; "
        f"gateway CPU {per_request:.1f} µs per request; {total:,} samples of pid {worker} "
        f"({idle:,} more idle, left out)"
    )
    rows = []
    for step in STEPS:
        share = shares.get(step, 0) / total
        rows.append({"step": step, "share": round(share, 4), "us": round(share * per_request, 1)})
        console.print(f"  {step:<34} {100 * share:5.1f} %  {share * per_request:5.1f} µs")
    console.print(f"  {'GC (gc.callbacks, within the above)':<34} {gc_us:12.1f} µs")
    # Exact CPU per thread (not samples): the event loop's thread, the SQLite writer's, any other.
    threads = {
        name: round((spent - threads_before.get(name, 0.0)) * 1e6 / max(result.requests, 1), 1)
        for name, spent in threads_after.items()
    }
    for name, us in sorted(threads.items(), key=lambda item: -item[1]):
        if us >= 0.1:
            console.print(f"  thread {name:<27} {us:12.1f} µs CPU per request")
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wrk": result.as_dict(),
        "proxy_cpu_us_per_request": round(per_request, 1),
        "gc_us_per_request": round(gc_us, 2),
        "thread_cpu_us_per_request": threads,
        "gc": gc_after,
        "samples": total,
        "steps": rows,
    }


def main(argv: list[str] | None = None) -> int:
    return run_bench(arguments(argv), "termgate-profile-", profile)


if __name__ == "__main__":
    sys.exit(main())
