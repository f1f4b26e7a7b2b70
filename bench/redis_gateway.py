"""The gateway with Redis limits, before and after a change, in turns: the gateway's CPU and the
redis-server's CPU per request, each on its own.

    uv run python bench/redis_gateway.py --before ../main/src --rounds 6 --seconds 5

Same upstream, database, credentials and request as `run.py` (pinned alike: wrk on CPU 0, every
server on CPU 1). Two gateways with Redis limits run side by side, each with its own private
redis-server: "before" imports termgate from `--before` (a `src` folder of another checkout, put
first on PYTHONPATH), "after" from this checkout; the in-process gateway and nginx run too, for the
ratios. The rounds rotate the targets, so a drift of the machine's load falls on all alike; the
medians are printed. CPU per request is user + system time of each process (/proc) over the
requests wrk completed, so the other jobs on the machine do not count in it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import redis

from harness import console, run_bench
from loadgen import run_wrk, write_script
from targets import (
    PATH,
    ROOT,
    Processes,
    cpu_seconds,
    free_port,
    prepare_database,
    read_tenants,
    start_upstream,
    wait_for_200,
    write_nginx_conf,
)
from termgate.reference_api.defaults import DEFAULT_SEED

RESULTS = ROOT / "bench" / "results" / "redis_gateway.json"
TARGETS = ("nginx", "termgate", "redis-before", "redis-after")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="src folder of the 'before'")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def start_redis_gateway(
    processes: Processes, name: str, env: dict[str, str], port: int, pythonpath: str | None
) -> int:
    """A private redis-server and a gateway with its limits in it; the server's port."""
    redis_port = free_port()
    redis = ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""]
    processes.start(f"{name}-server", [*redis, "--appendonly", "no"], cpus="1")
    extra = {"PYTHONPATH": pythonpath} if pythonpath else {}
    env = {
        **env,
        **extra,
        "TERMGATE_PORT": str(port),
        "TERMGATE_LIMITER_BACKEND": "redis",
        "TERMGATE_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "TERMGATE_REDIS_FAILURE": "closed",
    }
    processes.start(name, [sys.executable, "-m", "termgate.server"], cpus="1", env=env)
    return redis_port


def script_stats(port: int) -> tuple[float, int]:
    """The script's own time per call in the redis-server (`INFO commandstats`, wall clock) and
    its calls (`EVALSHA` and `EVAL`) so far."""
    client = redis.Redis(port=port)
    commands = client.info("commandstats")
    client.close()
    evalsha = commands.get("cmdstat_evalsha", {})
    calls = int(evalsha.get("calls", 0)) + int(commands.get("cmdstat_eval", {}).get("calls", 0))
    return float(evalsha.get("usec_per_call", 0.0)), calls


def bench(args: argparse.Namespace, tmp: Path, processes: Processes) -> dict[str, object]:
    ports = {name: free_port() for name in TARGETS}
    upstream_port = free_port()
    database_url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    issuer = f"http://127.0.0.1:{ports['termgate']}"
    start_upstream(processes, upstream_port, 2000, DEFAULT_SEED, "1")
    tenants = read_tenants(upstream_port)
    path = PATH.format(**tenants.own)
    headers = prepare_database(database_url, tmp, issuer, tenants.consented)
    conf = write_nginx_conf(tmp, ports["nginx"], upstream_port)
    nginx = ["nginx", "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "nginx-error.log")]
    processes.start("nginx", nginx, cpus="1")
    env = {
        "TERMGATE_DATABASE_URL": database_url,
        "TERMGATE_PORT": str(ports["termgate"]),
        "TERMGATE_UPSTREAM_URL": f"http://127.0.0.1:{upstream_port}",
        "TERMGATE_WORKERS": "1",
        "TERMGATE_LOG_LEVEL": "warning",
        "TERMGATE_PUBLIC_URL": issuer,
    }
    processes.start("termgate", [sys.executable, "-m", "termgate.server"], cpus="1", env=env)
    before = str(args.before.resolve())
    redis_ports = {
        "redis-before": start_redis_gateway(
            processes, "redis-before", env, ports["redis-before"], before
        ),
        "redis-after": start_redis_gateway(
            processes, "redis-after", env, ports["redis-after"], None
        ),
    }
    for name in TARGETS:
        wait_for_200(processes, name, ports[name], path, headers)
    script = write_script(tmp, headers)
    sessions = {name: processes.session(name) for name in TARGETS}
    servers = {name: processes.session(f"{name}-server") for name in TARGETS[2:]}
    figures: dict[str, dict[str, list[float]]] = {
        name: {"rps": [], "proxy_us": [], "redis_us": [], "p99_ms": []} for name in TARGETS
    }
    # Requests each Redis gateway served in all (warm-up included), for decisions per call.
    served = dict.fromkeys(redis_ports, 0)

    def load(name: str, seconds: float) -> None:
        server = servers.get(name)
        proxy = cpu_seconds(sessions[name])
        redis = cpu_seconds(server) if server else 0.0
        result = run_wrk(
            f"http://127.0.0.1:{ports[name]}{path}",
            script,
            seconds=seconds,
            connections=args.connections,
            threads=1,
            cpus="0",
        )
        per_request = 1e6 / max(result.requests, 1)
        if name in served:
            served[name] += result.requests
        entry = figures[name]
        entry["rps"].append(result.rps)
        entry["p99_ms"].append(result.p99_ms)
        entry["proxy_us"].append((cpu_seconds(sessions[name]) - proxy) * per_request)
        redis_after = cpu_seconds(server) if server else 0.0
        entry["redis_us"].append((redis_after - redis) * per_request)
        if any(result.errors.values()):
            console.print(f"[yellow]{name}: wrk errors {result.errors}[/]")

    for name in TARGETS:
        load(name, args.warmup)
    for entry in figures.values():
        for values in entry.values():
            values.clear()
    for number in range(args.rounds):
        turn = number % len(TARGETS)
        for name in TARGETS[turn:] + TARGETS[:turn]:
            load(name, args.seconds)
            entry = figures[name]
            console.print(
                f"round {number + 1} {name:<13} {entry['rps'][-1]:>8,.0f} req/s  "
                f"gateway CPU {entry['proxy_us'][-1]:5.1f} µs/req  "
                f"redis-server {entry['redis_us'][-1]:5.1f} µs/req  "
                f"p99 {entry['p99_ms'][-1]:.1f} ms"
            )
    summary = {
        name: {key: round(statistics.median(values), 2) for key, values in entry.items()}
        for name, entry in figures.items()
    }
    nginx_rps = summary["nginx"]["rps"]
    for name, entry in summary.items():
        console.print(
            f"median {name:<13} {entry['rps']:>8,.0f} req/s  "
            f"{entry['rps'] / nginx_rps:.3f}x nginx  "
            f"gateway CPU {entry['proxy_us']:5.1f}  redis-server {entry['redis_us']:5.1f} µs/req  "
            f"p99 {entry['p99_ms']:.1f} ms"
        )
    servers_did = {name: script_stats(port) for name, port in redis_ports.items()}
    for name, (usec, calls) in servers_did.items():
        console.print(
            f"{name}: the script {usec:.2f} µs per call (INFO commandstats), "
            f"{served[name] / max(calls, 1):.2f} decisions per call"
        )
    load_average = " ".join(f"{value:.1f}" for value in os.getloadavg())
    console.print(f"load average {load_average}")
    return {
        "summary": summary,
        "rounds": figures,
        "script_usec_per_call": {name: usec for name, (usec, _) in servers_did.items()},
        "decisions_per_call": {
            name: served[name] / max(calls, 1) for name, (_, calls) in servers_did.items()
        },
        "load": load_average,
    }


def main(argv: list[str] | None = None) -> int:
    return run_bench(arguments(argv), "termgate-redis-gateway-", bench)


if __name__ == "__main__":
    sys.exit(main())
