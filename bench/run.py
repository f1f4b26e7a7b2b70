"""Benchmark: the published-contract reference API direct, behind plain nginx, and behind
termgate, in one run.

    bash bench/run.sh            (or `make bench`)
    uv run python bench/run.py --seconds 5 --rounds 3 --connections 32

Method (docs/performance.md): one upstream (`termgate.reference_api`, one granian worker, with the
bench's request counter), one nginx worker, one termgate worker; wrk -t1 with the same request and
headers against each; a warm-up per target, then rounds that interleave the targets; the median
over rounds is reported. By default wrk runs on CPU 0 and every server on CPU 1, the same for
every target. The upstream's request counts prove that no gateway called it on its own (tenant
listings) during the rounds. Results go to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from checks import GATEWAYS, GUID, TARGETS, check_same_answer, check_tenant_refused, upstream_calls
from goals import chain_figures, goal_lines, goals
from harness import console, machine, run_bench, warn_other_servers
from loadgen import WrkResult, run_wrk, write_script
from python_speed import probe_ms, spread, spread_line
from targets import (
    PATH,
    ROOT,
    Processes,
    Tenants,
    context_switches,
    count_usage_events,
    cpu_seconds,
    free_port,
    prepare_database,
    read_tenants,
    sessions_cpu_seconds,
    start_upstream,
    upstream_counts,
    wait_for_200,
    wait_until_quiet,
    write_nginx_conf,
)
from termgate.reference_api.defaults import DEFAULT_SEED

LABELS = {
    "direct": "upstream direct",
    "nginx": "nginx proxy",
    "termgate": "termgate gateway",
    "termgate-redis": "termgate, Redis limits",
}
RESULTS = ROOT / "bench" / "results" / "latest.json"


@dataclass(frozen=True)
class Run:
    """One wrk run and the CPU the servers spent on it, in microseconds per request."""

    wrk: WrkResult
    upstream_us: float
    proxy_us: float
    # How often the upstream's threads left the CPU per request: with the servers sharing a
    # core, how the upstream takes turns with the proxy in front of it (docs/performance.md).
    upstream_switches: float

    @property
    def rps(self) -> float:
        return self.wrk.rps

    @property
    def p50_ms(self) -> float:
        return self.wrk.p50_ms

    @property
    def p99_ms(self) -> float:
        return self.wrk.p99_ms

    def as_dict(self) -> dict[str, object]:
        return {
            **self.wrk.as_dict(),
            "upstream_cpu_us_per_request": round(self.upstream_us, 1),
            "proxy_cpu_us_per_request": round(self.proxy_us, 1),
            "upstream_switches_per_request": round(self.upstream_switches, 2),
        }


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one measured run")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per target")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--employees", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="of the upstream's data")
    parser.add_argument(
        "--path", default=PATH, help="request template: {debtorId} {companyId} {employeeId}"
    )
    parser.add_argument(
        "--pin",
        choices=("split", "none"),
        default="split",
        help="split: wrk on CPU 0, servers on CPU 1 (needs 2 CPUs); none: let the OS schedule",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


@dataclass(frozen=True)
class Started:
    """The running targets: their ports, the request's credentials (subscription key and bearer
    token, sent to all), the database file, the request, and the same request naming another
    customer's ids."""

    ports: dict[str, int]
    headers: dict[str, str]
    db_path: Path
    path: str
    foreign_path: str


def start_all(
    processes: Processes, tmp: Path, args: argparse.Namespace, server_cpus: str | None
) -> Started:
    """Start the upstream, read its ids, mint the end user's token over them, start the rest."""
    db_path = tmp / "bench.db"
    database_url = f"sqlite+aiosqlite:///{db_path}"
    ports = {name: free_port() for name in TARGETS}
    issuer = f"http://127.0.0.1:{ports['termgate']}"
    python = sys.executable
    start_upstream(processes, ports["direct"], args.employees, args.seed, server_cpus)
    tenants: Tenants = read_tenants(ports["direct"])
    path, foreign_path = args.path.format(**tenants.own), args.path.format(**tenants.foreign)
    upstream_counts(ports["direct"], watch=path)
    headers = prepare_database(database_url, tmp, issuer, tenants.consented)
    wait_for_200(processes, "upstream", ports["direct"], path, headers)

    conf = write_nginx_conf(tmp, ports["nginx"], ports["direct"])
    nginx = ["nginx", "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "nginx-error.log")]
    processes.start("nginx", nginx, cpus=server_cpus)
    wait_for_200(processes, "nginx", ports["nginx"], path, headers)

    env = {
        "TERMGATE_DATABASE_URL": database_url,
        "TERMGATE_PORT": str(ports["termgate"]),
        "TERMGATE_UPSTREAM_URL": f"http://127.0.0.1:{ports['direct']}",
        "TERMGATE_WORKERS": "1",
        "TERMGATE_LOG_LEVEL": "warning",
        "TERMGATE_PUBLIC_URL": issuer,
    }
    processes.start("termgate", [python, "-m", "termgate.server"], cpus=server_cpus, env=env)
    wait_for_200(processes, "termgate", ports["termgate"], path, headers)

    # The same gateway with its counters in Redis (cluster mode), a private redis-server on the
    # servers' core: one EVALSHA per request.
    redis_port = free_port()
    redis = ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""]
    processes.start("redis", [*redis, "--appendonly", "no"], cpus=server_cpus)
    env = {
        **env,
        "TERMGATE_PORT": str(ports["termgate-redis"]),
        "TERMGATE_LIMITER_BACKEND": "redis",
        "TERMGATE_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "TERMGATE_REDIS_FAILURE": "closed",  # a Redis problem shows as errors, not as speed
    }
    gateway = [python, "-m", "termgate.server"]
    processes.start("termgate-redis", gateway, cpus=server_cpus, env=env)
    wait_for_200(processes, "termgate-redis", ports["termgate-redis"], path, headers)
    return Started(ports, headers, db_path, path, foreign_path)


def median(results: list[Run], attribute: str) -> float:
    return float(statistics.median(getattr(result, attribute) for result in results))


def report(rounds: dict[str, list[Run]], args: argparse.Namespace, path: str) -> dict[str, object]:
    summary: dict[str, dict[str, float]] = {
        name: {
            "rps": round(median(results, "rps"), 1),
            "p50_ms": median(results, "p50_ms"),
            "p99_ms": median(results, "p99_ms"),
            "upstream_cpu_us": round(median(results, "upstream_us"), 1),
            "proxy_cpu_us": round(median(results, "proxy_us"), 1),
            "upstream_switches": round(median(results, "upstream_switches"), 2),
        }
        for name, results in rounds.items()
    }
    ratios = {
        "termgate_over_nginx": round(summary["termgate"]["rps"] / summary["nginx"]["rps"], 3),
        "termgate_redis_over_nginx": round(
            summary["termgate-redis"]["rps"] / summary["nginx"]["rps"], 3
        ),
        "termgate_redis_over_termgate": round(
            summary["termgate-redis"]["rps"] / summary["termgate"]["rps"], 3
        ),
        "termgate_over_direct": round(summary["termgate"]["rps"] / summary["direct"]["rps"], 3),
        "nginx_over_direct": round(summary["nginx"]["rps"] / summary["direct"]["rps"], 3),
        # CPU per request of the proxy alone (upstream excluded): nginx's over termgate's.
        "proxy_cpu_nginx_over_termgate": round(
            summary["nginx"]["proxy_cpu_us"] / summary["termgate"]["proxy_cpu_us"], 3
        ),
    }
    table = Table(
        title=f"GET {GUID.sub('{id}', path)}  wrk -t{args.threads} -c{args.connections} "
        f"-d{args.seconds:g}s, median of {args.rounds} rounds"
    )
    table.add_column("target")
    table.add_column("req/s", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    table.add_column("upstream CPU µs/req", justify="right")
    table.add_column("proxy CPU µs/req", justify="right")
    table.add_column("req/s per round", justify="right")
    for name in TARGETS:
        figures = summary[name]
        table.add_row(
            LABELS[name],
            f"{figures['rps']:,.0f}",
            f"{figures['p50_ms']:.2f}",
            f"{figures['p99_ms']:.2f}",
            f"{figures['upstream_cpu_us']:.0f}",
            f"{figures['proxy_cpu_us']:.0f}" if name != "direct" else "-",
            " ".join(f"{result.rps:,.0f}" for result in rounds[name]),
        )
    console.print(table)
    console.print(
        f"termgate / nginx = [bold]{ratios['termgate_over_nginx']:.2f}[/]   "
        f"termgate (Redis limits) / nginx = [bold]{ratios['termgate_redis_over_nginx']:.2f}[/]   "
        f"termgate / direct = {ratios['termgate_over_direct']:.2f}   "
        f"nginx / direct = {ratios['nginx_over_direct']:.2f}   "
        f"proxy CPU per request nginx / termgate = {ratios['proxy_cpu_nginx_over_termgate']:.2f}"
    )
    switches = "   ".join(
        f"{LABELS[name]} {summary[name]['upstream_switches']:.2f}" for name in TARGETS
    )
    console.print(f"the upstream's threads left the CPU, times per request: {switches}")
    for line in goal_lines(summary):
        console.print(line)
    chains = {name: chain_figures(summary, name) for name in GATEWAYS}
    return {"summary": summary, "ratios": ratios, "chains": chains, "goals": goals(summary)}


def bench(args: argparse.Namespace, tmp: Path, processes: Processes) -> dict[str, object]:
    if args.pin == "split" and (os.cpu_count() or 1) < 2:
        console.print("[yellow]fewer than 2 CPUs: not pinning[/]")
        args.pin = "none"
    wrk_cpus, server_cpus = ("0", "1") if args.pin == "split" else (None, None)

    others = warn_other_servers()
    started = time.monotonic()
    setup = start_all(processes, tmp, args, server_cpus)
    ports, headers, path = setup.ports, setup.headers, setup.path
    sizes = check_same_answer(ports, path, headers)
    # wait_for_200, check_same_answer and check_tenant_refused (a refusal is recorded too)
    gateway_requests = 2 * len(GATEWAYS)
    refused = "the path names no tenant"
    if setup.foreign_path != path:
        check_tenant_refused(ports, setup.foreign_path, headers)
        gateway_requests += len(GATEWAYS)
        refused = "the gateways refuse another customer's ids (403)"
    shown = ", ".join(f"{name} {size:,}" for name, size in sizes.items())
    console.print(
        f"GET {path}: every target answers 200 with the same content (bytes: {shown}; the links "
        f"name each target's host); {refused}; started in {time.monotonic() - started:.1f} s"
    )
    script = write_script(tmp, headers)
    urls = {name: f"http://127.0.0.1:{ports[name]}{path}" for name in TARGETS}

    upstream_session = processes.session("upstream")
    # The Redis target's proxy CPU includes the redis-server's.
    proxy_sessions = {
        "nginx": [processes.session("nginx")],
        "termgate": [processes.session("termgate")],
        "termgate-redis": [processes.session("termgate-redis"), processes.session("redis")],
    }

    servers = processes.sessions()
    settled: list[float] = []  # after each load, until the servers' own work for it is done

    def proxy_cpu(sessions: list[int] | None) -> float:
        return sessions_cpu_seconds(sessions or ())

    def load(name: str, seconds: float) -> Run:
        nonlocal gateway_requests
        proxy = proxy_sessions.get(name)
        upstream_before = cpu_seconds(upstream_session)
        switches_before = context_switches(upstream_session)
        proxy_before = proxy_cpu(proxy)
        result = run_wrk(
            urls[name],
            script,
            seconds=seconds,
            connections=args.connections,
            threads=args.threads,
            cpus=wrk_cpus,
        )
        # The gateway's last usage batch is its work too, and must not land in the next run.
        settled.append(wait_until_quiet(servers))
        per_request = 1e6 / max(result.requests, 1)
        run = Run(
            result,
            (cpu_seconds(upstream_session) - upstream_before) * per_request,
            (proxy_cpu(proxy) - proxy_before) * per_request if proxy else 0.0,
            (context_switches(upstream_session) - switches_before) / max(result.requests, 1),
        )
        if name in GATEWAYS:
            gateway_requests += result.requests
        if any(result.errors.values()):
            console.print(f"[yellow]{name}: wrk errors {result.errors}[/]")
        return run

    warmups = {name: load(name, args.warmup).as_dict() for name in TARGETS}
    probe_cpu = int(server_cpus) if server_cpus is not None else None
    speed = [probe_ms(probe_cpu)]  # and after every load below: the host's Python speed
    time.sleep(0.5)  # the requests in flight when wrk stopped reach the upstream
    counts_before = upstream_counts(ports["direct"])
    rounds: dict[str, list[Run]] = {name: [] for name in TARGETS}
    for number in range(args.rounds):
        turn = number % len(TARGETS)
        order = TARGETS[turn:] + TARGETS[:turn]  # rotate who goes first
        for name in order:
            result = load(name, args.seconds)
            rounds[name].append(result)
            speed.append(probe_ms(probe_cpu))
            console.print(
                f"round {number + 1} {LABELS[name]:<17} {result.rps:>9,.0f} req/s  "
                f"p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms  CPU µs/req "
                f"upstream {result.upstream_us:.0f} proxy {result.proxy_us:.0f}  upstream "
                f"switches/req {result.upstream_switches:.2f}"
            )

    time.sleep(0.5)
    counts_after = upstream_counts(ports["direct"])
    results = report(rounds, args, path)
    console.print(spread_line(speed))
    console.print(
        f"each load began with the servers quiet: after each, {min(settled):.1f}-"
        f"{max(settled):.1f} s until they used under 20 % of a core (their last usage batches)"
    )
    completed = sum(run.wrk.requests for runs in rounds.values() for run in runs)
    calls = upstream_calls(
        counts_before, counts_after, completed, args.rounds * len(TARGETS), args.connections
    )
    # SIGINT: the gateways flush their usage events.
    exit_code = max(processes.stop(name) or 0 for name in GATEWAYS)
    events = count_usage_events(setup.db_path)
    console.print(
        f"usage events recorded: {events:,} for {gateway_requests:,} gateway requests wrk "
        f"completed (+ in flight at each stop); gateway exit code {exit_code}"
    )
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            **machine(),
            "other_servers": others,
            "python_speed": {**spread(speed), "samples_ms": [round(ms, 2) for ms in speed]},
        },
        "method": {
            "path": path,
            "path_template": args.path,
            "upstream": "termgate.reference_api with the bench's request counter "
            f"(bench/counted_upstream.py), --employees {args.employees} --seed {args.seed}",
            "headers": "X-Subscription-Key and Authorization: Bearer (sent to every target)",
            "wrk": f"-t{args.threads} -c{args.connections} -d{args.seconds:g}s",
            "warmup_seconds": args.warmup,
            "rounds": args.rounds,
            "pinning": "wrk on CPU 0, all servers on CPU 1"
            if args.pin == "split"
            else "none (OS scheduling)",
            "workers": "one each: upstream granian ASGI, nginx worker_processes 1, termgate",
        },
        "body_bytes": sizes["direct"],
        "body_bytes_per_target": sizes,
        **results,
        "upstream_calls": calls,
        "rounds": {name: [r.as_dict() for r in results_] for name, results_ in rounds.items()},
        "warmup": warmups,
        "settle_seconds": [round(seconds, 2) for seconds in settled],
        "usage_events": {
            "recorded": events,
            "wrk_completed": gateway_requests,
            "gateway_exit_code": exit_code,
        },
    }


def main(argv: list[str] | None = None) -> int:
    return run_bench(arguments(argv), "termgate-bench-", bench)


if __name__ == "__main__":
    sys.exit(main())
