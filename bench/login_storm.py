"""Benchmark: the gateway with and without a concurrent storm of wrong passwords on the portal.

    bash bench/run.sh --login-storm            (or `make bench ARGS=--login-storm`)
    uv run python bench/login_storm.py --seconds 5 --rounds 3 --storm-clients 4

The gateway and the control plane share one event loop per worker. wrk loads the gateway (the
same request as bench/run.py) while `--storm-clients` threads post wrong passwords to
/portal/login as fast as they are answered. Three cases, interleaved over the rounds, median
reported: no storm; a storm with the sign-in throttle out of the way (every attempt runs argon2:
the worst case for the data plane); a storm against the default throttle (after a few attempts
the storm gets 429 without any argon2 work). Servers on CPU 1, wrk and the storm on CPU 0, as in
bench/run.py. Results go to bench/results/login_storm.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import threading
from collections import Counter
from pathlib import Path

import httpx
from rich.console import Console

from harness import machine, run_bench
from loadgen import WrkResult, run_wrk, write_script
from targets import (
    PATH,
    ROOT,
    Processes,
    free_port,
    prepare_database,
    read_tenants,
    start_upstream,
    wait_for_200,
)
from termgate.reference_api.defaults import DEFAULT_SEED

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CASES = ("calm", "storm, no throttle", "storm, default throttle")
RESULTS = ROOT / "bench" / "results" / "login_storm.json"
console = Console(width=130)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--storm-clients", type=int, default=4)
    parser.add_argument("--employees", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="of the upstream's data")
    parser.add_argument("--pin", choices=("split", "none"), default="split")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def storm(base: str, stop: threading.Event, answers: Counter[int]) -> None:
    """One client posting wrong passwords until `stop`; counts the answers by status."""
    with httpx.Client(base_url=base, timeout=30) as client:
        token = CSRF.search(client.get("/portal/login").text)
        assert token, "no CSRF token on the login page"
        form = {"csrf_token": token.group(1), "email": "ann@example.nl", "password": "x" * 12}
        while not stop.is_set():
            answers[client.post("/portal/login", data=form).status_code] += 1


def start(
    processes: Processes, tmp: Path, args: argparse.Namespace, cpus: str | None
) -> tuple[dict[str, int], dict[str, str], str]:
    """Start the upstream and the two gateways; returns their ports, the request's headers and
    its path (bench/run.py's request, with the ids read from the upstream)."""
    database_url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    ports = {name: free_port() for name in ("upstream", "throttled", "unthrottled")}
    issuer = f"http://127.0.0.1:{ports['unthrottled']}"
    start_upstream(processes, ports["upstream"], args.employees, args.seed, cpus)
    tenants = read_tenants(ports["upstream"])
    path = PATH.format(**tenants.own)
    headers = prepare_database(database_url, tmp, issuer, tenants.consented)
    env = {
        "TERMGATE_DATABASE_URL": database_url,
        "TERMGATE_UPSTREAM_URL": f"http://127.0.0.1:{ports['upstream']}",
        "TERMGATE_WORKERS": "1",
        "TERMGATE_LOG_LEVEL": "warning",
        "TERMGATE_PUBLIC_URL": issuer,  # both gateways accept the one bench token
    }
    loose = {
        "TERMGATE_SIGNIN_ACCOUNT_FAILURES": "10000",
        "TERMGATE_SIGNIN_ADDRESS_FAILURES": "99999",
    }
    for name, extra in (("unthrottled", loose), ("throttled", {})):
        env_of = {**env, **extra, "TERMGATE_PORT": str(ports[name])}
        processes.start(name, [sys.executable, "-m", "termgate.server"], cpus=cpus, env=env_of)
        wait_for_200(processes, name, ports[name], path, headers)
    return ports, headers, path


def measure(
    case: str,
    ports: dict[str, int],
    request: tuple[Path, str],
    args: argparse.Namespace,
    cpus: str | None,
) -> tuple[WrkResult, Counter[int]]:
    script, path = request
    target = "throttled" if case == "storm, default throttle" else "unthrottled"
    base = f"http://127.0.0.1:{ports[target]}"
    stop, answers = threading.Event(), Counter[int]()
    clients = 0 if case == "calm" else args.storm_clients
    threads = [threading.Thread(target=storm, args=(base, stop, answers)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        result = run_wrk(
            base + path,
            script,
            seconds=args.seconds,
            connections=args.connections,
            threads=1,
            cpus=cpus,
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return result, answers


def summary(runs: list[tuple[WrkResult, Counter[int]]], seconds: float) -> dict[str, object]:
    def middle(values: list[float]) -> float:
        return round(statistics.median(values), 3)

    logins: Counter[int] = Counter()
    for _, answers in runs:
        logins.update(answers)
    return {
        "rps": middle([run.rps for run, _ in runs]),
        "p50_ms": middle([run.p50_ms for run, _ in runs]),
        "p99_ms": middle([run.p99_ms for run, _ in runs]),
        "max_ms": middle([run.max_ms for run, _ in runs]),
        "wrk_errors": sum(sum(run.errors.values()) for run, _ in runs),
        "login_answers_per_second": {
            str(status): round(count / (seconds * len(runs)), 1) for status, count in logins.items()
        },
    }


def bench(args: argparse.Namespace, tmp: Path, processes: Processes) -> dict[str, object]:
    split = args.pin == "split" and (os.cpu_count() or 1) >= 2
    client_cpus, server_cpus = ("0", "1") if split else (None, None)
    if split:
        os.sched_setaffinity(0, {0})  # the storm's threads run beside wrk, not the servers
    ports, headers, path = start(processes, tmp, args, server_cpus)
    request = (write_script(tmp, headers), path)
    runs: dict[str, list[tuple[WrkResult, Counter[int]]]] = {case: [] for case in CASES}
    for number in range(args.rounds):
        order = CASES[number % 3 :] + CASES[: number % 3]
        for case in order:
            result, answers = measure(case, ports, request, args, client_cpus)
            runs[case].append((result, answers))
            console.print(
                f"round {number + 1} {case:<24} {result.rps:>8,.0f} req/s  p50 "
                f"{result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms  max {result.max_ms:.0f} ms"
                f"  logins {dict(answers)}"
            )
    results = {case: summary(found, args.seconds) for case, found in runs.items()}
    for case, found in results.items():
        console.print(f"median {case:<24} {found}")
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "method": {
            "path": path,
            "wrk": f"-t1 -c{args.connections} -d{args.seconds:g}s",
            "storm_clients": args.storm_clients,
            "rounds": args.rounds,
            "pinning": "wrk and storm on CPU 0, servers on CPU 1" if split else "none",
        },
        "results": results,
    }


def main(argv: list[str] | None = None) -> int:
    return run_bench(arguments(argv), "termgate-storm-", bench)


if __name__ == "__main__":
    sys.exit(main())
