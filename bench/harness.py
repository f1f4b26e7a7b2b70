"""What every bench of this folder shares: the machine's description and running a bench with its
processes in a scratch folder, results written as JSON."""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from rich.console import Console

from targets import ROOT, Processes

console = Console(width=130)


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def machine() -> dict[str, object]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(command: list[str]) -> str:
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError:
            return "?"
        return (done.stdout + done.stderr).strip().splitlines()[0]

    import granian

    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "granian": granian.__version__,
        "nginx": version(["nginx", "-v"]),
        "wrk": version(["wrk", "-v"]),
    }


def run_bench(
    args: argparse.Namespace,
    prefix: str,
    bench_fn: Callable[[argparse.Namespace, Path, Processes], dict[str, object]],
) -> int:
    """Runs `bench_fn` with its processes in a scratch folder and writes its results as JSON."""
    signal.signal(signal.SIGTERM, _terminate)
    # A shell starting us in the background leaves SIGINT ignored, and children would inherit
    # that: the gateway must see the SIGINT that stops it cleanly.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix=prefix) as directory:
        tmp = Path(directory)
        processes = Processes(logs=tmp)
        try:
            results = bench_fn(args, tmp, processes)
        except (RuntimeError, KeyboardInterrupt) as error:
            console.print(f"[red]bench failed: {error}[/]")
            for name, _, _ in processes.started:
                console.print(f"--- {name} output ---\n{processes.output(name)}")
            return 1
        finally:
            processes.stop_all()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    console.print(f"results: {shown}")
    return 0
