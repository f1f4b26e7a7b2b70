"""The bytecode instructions the whole chain runs per request, by thread and function: a count
that a noisy machine does not change.

    uv run python bench/instructions_per_request.py                   # this checkout
    uv run python bench/instructions_per_request.py --before DIR/src  # and another checkout's
    uv run python bench/instructions_per_request.py --functions       # by function, not module
    uv run python bench/instructions_per_request.py --steps           # by profile_gateway's steps

On a host whose neighbours slow Python down by up to half from one minute to the next, the CPU
per request of two versions cannot tell a 5 % cut from the noise. The Python each thread runs
can: the upstream and database of run.py, the gateway run by `traced_gateway.py` (every bytecode
instruction counted by `sys.settrace`) under wrk (`--connections`, default 32, as the bench),
the counts over `--requests` requests after a warm-up, printed per thread and module
(instructions per request) and written to bench/results/instructions.json. The usage writer's
are per request too: one event each. C code (uvloop, the HTTP parsers, SQLite, the kernel) is
not counted. Work done once per flush (SQLAlchemy's transaction on the serving loop) is shared
by the ~100 requests a second the traced gateway serves (about a thirtieth of its full speed),
not by thousands: it counts for more here than at full speed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from loadgen import run_wrk, write_script
from profile_steps import SERVER, step_of
from targets import (
    ROOT,
    Processes,
    seeded_gateway,
    start_seeded_upstream,
    wait_for_200,
)

HERE = Path(__file__).resolve().parent
OUTPUT = ROOT / "bench" / "results" / "instructions.json"
MAIN_THREAD = "MainThread"
OTHER = "asyncio, the standard library (no gateway function)"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--top", type=int, default=12, help="modules printed per thread")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--functions", action="store_true", help="print functions, not modules")
    shown.add_argument("--steps", action="store_true", help="print the request path's steps")
    parser.add_argument("--before", help="another checkout's src: its gateway is counted too")
    return parser.parse_args()


def count_instructions(
    processes: Processes,
    tmp: Path,
    name: str,
    source: str | None,
    upstream: int,
    path: str,
    headers: dict[str, str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    port, env = seeded_gateway(tmp, name, upstream, source)
    report = tmp / f"{name}-instructions.json"
    env |= {
        "TERMGATE_TRACE_FILE": str(report),
        "TERMGATE_TRACE_WARMUP": str(args.warmup),
        "TERMGATE_TRACE_REQUESTS": str(args.requests),
        # the traced gateway's module, after another checkout's src when there is one
        "PYTHONPATH": os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(HERE)])),
    }
    processes.start(name, [sys.executable, str(HERE / "traced_gateway.py")], cpus="1", env=env)
    wait_for_200(processes, name, port, path, headers)
    script = write_script(tmp, headers)
    for _ in range(60):  # the window ends after a number of requests, not of seconds
        run_wrk(
            f"http://127.0.0.1:{port}{path}",
            script,
            seconds=5,
            connections=args.connections,
            threads=1,
            cpus="0",
        )
        if report.exists():
            counted: dict[str, Any] = json.loads(report.read_text())
            return counted
    raise RuntimeError(f"{name} counted no window of {args.requests} requests in 300 s")


def thread_kind(name: str) -> str:
    return "serving loop" if name == MAIN_THREAD else f"thread {name}"


def by_module(functions: dict[str, int]) -> dict[str, int]:
    modules: Counter[str] = Counter()
    for where, count in functions.items():
        modules[where.rpartition(":")[0]] += count
    return dict(modules.most_common())


def by_step(functions: dict[str, int]) -> dict[str, int]:
    """The steps of profile_gateway.py's breakdown, from each function's module and name."""
    steps: Counter[str] = Counter()
    for where, count in functions.items():
        module, _, name = where.rpartition(":")
        place = module if "/" in module else f"{module}/"  # "sqlalchemy/", as py-spy names it
        step = step_of([f"{name} ({place}:0)"])
        steps[OTHER if step == SERVER else step] += count
    return dict(steps.most_common())


def print_counts(name: str, counted: dict[str, Any], args: argparse.Namespace) -> None:
    requests = counted["requests"]
    total = sum(sum(places.values()) for places in counted["opcodes"].values())
    print(
        f"{name}: {total / requests:,.0f} bytecode instructions per request ({requests:,} requests)"
    )
    for thread, places in counted["opcodes"].items():
        instructions = sum(places.values())
        calls = counted["calls"].get(thread, 0)
        each, called = instructions / requests, calls / requests
        print(f"  {thread_kind(thread)}: {each:8.1f} instructions, {called:6.1f} calls")
        shown = places if args.functions else by_step(places) if args.steps else by_module(places)
        for where, count in list(shown.items())[: args.top]:
            print(f"    {count / requests:8.1f}  {where}")


def main() -> None:
    args = arguments()
    tmp = Path(tempfile.mkdtemp(prefix="termgate-instructions-"))
    os.environ["TERMGATE_VAR_DIR"] = str(tmp / "var")  # one secret key for every gateway
    processes = Processes(logs=tmp)
    try:
        seeded = start_seeded_upstream(processes, tmp)
        upstream, path, headers = seeded.port, seeded.path, seeded.headers
        gateways = {"gateway": None, **({"gateway before": args.before} if args.before else {})}
        results: dict[str, Any] = {}
        for name, source in gateways.items():
            results[name] = count_instructions(
                processes, tmp, name, source, upstream, path, headers, args
            )
            processes.stop(name)
            print_counts(name, results[name], args)
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text(json.dumps(results, indent=1))
        print(f"results: {OUTPUT.relative_to(ROOT)}")
    finally:
        processes.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
