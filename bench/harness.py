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


# Command lines of the servers and load the benches start: one of these already running (left by
# an interrupted bench or test run) shares the benched core and shows in every figure.
SERVER_MARKS = ("termgate", "granian", "nginx", "wrk", "counted_upstream", "observed_gateway")


def _ancestors() -> set[int]:
    """This process and the ones that started it (`uv run`, make, the shell)."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat[stat.rindex(")") + 2 :].split()[1])
    return pids


def other_servers() -> list[str]:
    """`pid command` of each live process (not a zombie, not this bench or its parents) whose
    command line names a server or load generator the benches use."""
    found, mine = [], _ancestors()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] != "Z" and any(mark in command for mark in SERVER_MARKS):
            found.append(f"{entry.name} {command.strip()[:100]}")
    return sorted(found, key=lambda line: int(line.split()[0]))


def warn_other_servers() -> list[str]:
    """Print a warning naming the other servers running now; returns them for the results."""
    others = other_servers()
    if others:
        console.print(
            f"[yellow]{len(others)} other server process(es) are running on this machine; their "
            "CPU shows in these figures (stop them for a clean run):[/]"
        )
        for line in others:
            console.print(f"[yellow]  {line}[/]")
    return others


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
