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

from targets import ROOT, Processes, live_processes, stat_fields

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


# The servers and load the benches start, by program: one of these already running (left by an
# interrupted bench or test run) shares the benched core and shows in every figure.
SERVER_PROGRAMS = frozenset({"nginx", "wrk", "granian"})
PYTHON_SERVERS = ("termgate", "observed_gateway", "counted_upstream")


def is_server(argv: list[str]) -> bool:
    """A command line (`/proc/PID/cmdline` split on NUL) that runs one of those servers: its
    program is one of them, or Python running a termgate module or a bench server (so a `grep
    nginx` or an editor open on a termgate file is not one)."""
    words = argv[0].replace(":", " ").split() if argv else []  # nginx: "nginx: worker process"
    program = Path(words[0]).name if words else ""
    if program in SERVER_PROGRAMS:
        return True
    if not program.startswith("python"):
        return False
    started = next((arg for arg in argv[1:] if not arg.startswith("-")), "")
    return any(name in started for name in PYTHON_SERVERS)


def _ancestors() -> set[int]:
    """This process and the ones that started it (`uv run`, make, the shell)."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        fields = stat_fields(Path(f"/proc/{pid}/stat"))
        if fields is None:
            break
        pid = int(fields[1])
    return pids


def other_servers() -> list[str]:
    """`pid command` of each live process (not a zombie, not this bench or its parents) that runs
    a server or load generator the benches use (`is_server`)."""
    found, mine = [], _ancestors()
    for pid, fields in live_processes():
        if pid in mine or fields[0] == "Z":
            continue
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        argv = command.rstrip("\0").split("\0")
        if is_server(argv):
            found.append(f"{pid} {' '.join(argv).strip()[:100]}")
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
