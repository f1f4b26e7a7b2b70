"""Before/after: bench/run.py of an earlier commit and of this checkout, on this machine, in turns.

    bash bench/run.sh --compare                     (= uv run python bench/compare.py)
    uv run python bench/compare.py --repeats 2 --rounds 3 --seconds 5 [--before DIR]

"Before" is a checkout of `--commit` (default f1c422f, the last commit before the published
contract: the old reference API, integer ids, the company lookup) in `--before` (default
../bench-before next to this checkout), made with `git worktree add` and `uv sync --frozen` when
it is missing. Each side runs its own bench/run.py with its own code, upstream and gateway, with
the same options; the runs alternate before, after, after, before, ... (`--repeats` pairs), so a
drift of the machine's load falls on both sides alike. Each run interleaves its own targets
(nginx, termgate, ...) and gives its ratios; this script prints every run's ratios and the median
per side, and writes them to bench/results/compare.json (every run's full results beside it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
RESULTS = HERE / "bench" / "results"
COMMIT = "f1c422f"
# What one run gives: (label, how to read it from the run's JSON).
FIGURES: tuple[tuple[str, Callable[[dict[str, Any]], float]], ...] = (
    ("termgate / nginx", lambda r: r["ratios"]["termgate_over_nginx"]),
    ("Redis limits / nginx", lambda r: r["ratios"]["termgate_redis_over_nginx"]),
    ("termgate / direct", lambda r: r["ratios"]["termgate_over_direct"]),
    ("proxy CPU nginx / termgate", lambda r: r["ratios"]["proxy_cpu_nginx_over_termgate"]),
    (
        "termgate p99 / nginx p99",
        lambda r: r["summary"]["termgate"]["p99_ms"] / r["summary"]["nginx"]["p99_ms"],
    ),
    ("termgate proxy CPU µs", lambda r: r["summary"]["termgate"]["proxy_cpu_us"]),
    ("nginx proxy CPU µs", lambda r: r["summary"]["nginx"]["proxy_cpu_us"]),
    ("upstream CPU µs (direct)", lambda r: r["summary"]["direct"]["upstream_cpu_us"]),
    ("upstream CPU µs, nginx", lambda r: r["summary"]["nginx"]["upstream_cpu_us"]),
    ("upstream CPU µs, termgate", lambda r: r["summary"]["termgate"]["upstream_cpu_us"]),
    ("nginx req/s", lambda r: r["summary"]["nginx"]["rps"]),
    ("termgate req/s", lambda r: r["summary"]["termgate"]["rps"]),
    ("body bytes", lambda r: r["body_bytes"]),
)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, default=HERE.parent / "bench-before")
    parser.add_argument("--commit", default=COMMIT, help="the 'before' commit, if --before is made")
    parser.add_argument("--repeats", type=int, default=2, help="pairs of runs (before + after)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--output", type=Path, default=RESULTS / "compare.json")
    return parser.parse_args(argv)


def make_before(directory: Path, commit: str) -> None:
    """A worktree of `commit` with its own environment, unless `directory` has one already."""
    if not (directory / "bench" / "run.py").exists():
        print(f"making {directory} at {commit}", flush=True)
        git = ["git", "-C", str(HERE), "worktree", "add", "--detach", str(directory), commit]
        subprocess.run(git, check=True)
    if not (directory / ".venv" / "bin" / "python").exists():
        # The uv on PATH: the interpreter running this script is the checkout's environment,
        # which has no uv module of its own.
        sync = [shutil.which("uv") or "uv", "sync", "--frozen"]
        subprocess.run(sync, cwd=directory, check=True)


def run_side(side: str, checkout: Path, number: int, args: argparse.Namespace) -> dict[str, Any]:
    """bench/run.py of `checkout` with its own interpreter; returns its results."""
    output = args.output.parent / f"compare-{number}-{side}.json"
    log = output.with_suffix(".log")
    command = [str(checkout / ".venv" / "bin" / "python"), str(checkout / "bench" / "run.py")]
    command += ["--rounds", str(args.rounds), "--seconds", f"{args.seconds:g}"]
    command += ["--warmup", f"{args.warmup:g}", "--connections", str(args.connections)]
    command += ["--output", str(output)]
    env = {**os.environ, "PATH": f"{os.environ.get('PATH', '')}:/usr/sbin"}
    env.pop("VIRTUAL_ENV", None)
    if checkout != HERE:
        env.pop("PYTHONPATH", None)  # another code base: only its own
    print(f"run {number} {side}: {checkout} (log {log})", flush=True)
    with log.open("w") as file:
        done = subprocess.run(command, cwd=checkout, env=env, stdout=file, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise SystemExit(f"the {side} bench failed ({done.returncode}); see {log}")
    results: dict[str, Any] = json.loads(output.read_text())
    print("  " + "  ".join(f"{label} {read(results):g}" for label, read in FIGURES[:6]))
    calls = results.get("upstream_calls")
    if calls is not None:
        print(f"  upstream API requests during the rounds besides the bench's: "
              f"{calls['other_api_requests']}")  # fmt: skip
    return results


def head(checkout: Path) -> str:
    git = ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"]
    return subprocess.run(git, capture_output=True, text=True, check=False).stdout.strip()


def table(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    medians = {
        side: {label: float(statistics.median(read(r) for r in found)) for label, read in FIGURES}
        for side, found in runs.items()
    }
    print(f"\n{'median over runs':<28}{'before':>12}{'after':>12}{'after/before':>14}")
    for label, _ in FIGURES:
        before, after = medians["before"][label], medians["after"][label]
        change = f"{after / before:.2f}" if before else "-"
        print(f"{label:<28}{before:>12,.3f}{after:>12,.3f}{change:>14}")
    for side, found in runs.items():
        print(
            f"{side} runs, termgate / nginx: " + " ".join(f"{FIGURES[0][1](r):.3f}" for r in found)
        )
    return medians


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    before = args.before.resolve()
    make_before(before, args.commit)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    checkouts = {"before": before, "after": HERE}
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    for number in range(args.repeats):
        order = ("before", "after") if number % 2 == 0 else ("after", "before")
        for side in order:
            runs[side].append(run_side(side, checkouts[side], number + 1, args))
    medians = table(runs)
    summary = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "before": {"checkout": str(before), "commit": head(before)},
        "after": {"checkout": str(HERE), "commit": head(HERE)},
        "options": {k: v for k, v in vars(args).items() if k not in ("before", "output")},
        "medians": medians,
        "runs": {
            side: [{label: read(r) for label, read in FIGURES} for r in found]
            for side, found in runs.items()
        },
    }
    args.output.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
