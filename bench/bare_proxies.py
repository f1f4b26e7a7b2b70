"""What the server costs: bare proxies and the gateway, side by side on one upstream.

    uv run python bench/bare_proxies.py                      # 3 rounds of 5 s
    uv run python bench/bare_proxies.py --before ../old/src  # adds the gateway of another checkout

One upstream as in run.py (the published contract's reference API, the bench's request, servers
on CPU 1, wrk on CPU 0), and in front of it, in turns: nginx; the same bare RSGI proxy (the
gateway's pooled client, no policy, no usage event; `bench/bare_apps.py`) served by granian and
by termgate's server; a proxy of llhttp callbacks alone (no task, no future: the floor on this
loop and parser); and the whole gateway (`python -m termgate.server`, and with `--before` the
same from another checkout's `src`). Printed per round and as medians: req/s and its ratio to
nginx, p99, and the CPU µs per request of the proxy (all its processes) and of the upstream.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from loadgen import run_wrk, write_script
from targets import (
    Processes,
    cpu_seconds,
    free_port,
    seeded_gateway,
    start_seeded_upstream,
    wait_for_200,
    write_nginx_conf,
)

HERE = Path(__file__).resolve().parent
Figures = tuple[float, float, float, float]  # req/s, p99 ms, proxy µs, upstream µs


def start_targets(
    processes: Processes,
    tmp: Path,
    upstream: int,
    path: str,
    headers: dict[str, str],
    before: str | None,
) -> dict[str, int]:
    ports: dict[str, int] = {}
    ports["nginx"] = free_port()
    conf = write_nginx_conf(tmp, ports["nginx"], upstream)
    nginx = ["nginx", "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "nginx-error.log")]
    processes.start("nginx", nginx, cpus="1")
    for kind in ("granian", "termgate", "callbacks"):
        name, port = f"bare {kind}", free_port()
        command = [sys.executable, str(HERE / "bare_apps.py"), kind, str(port), str(upstream)]
        processes.start(name, command, cpus="1", env={"PYTHONPATH": str(HERE)})
        ports[name] = port
    gateways = {"gateway": None, **({"gateway before": before} if before else {})}
    for name, source in gateways.items():
        port, env = seeded_gateway(tmp, name, upstream, source)
        processes.start(name, [sys.executable, "-m", "termgate.server"], cpus="1", env=env)
        ports[name] = port
    for name, port in ports.items():
        wait_for_200(processes, name, port, path, headers)
    return ports


def measure(
    processes: Processes, urls: dict[str, str], script: Path, rounds: int, seconds: float
) -> dict[str, list[Figures]]:
    results: dict[str, list[Figures]] = {name: [] for name in urls}
    upstream = processes.session("upstream")
    for url in urls.values():
        run_wrk(url, script, seconds=2, connections=32, threads=1, cpus="0")
    for round_ in range(rounds):
        for name in urls if round_ % 2 == 0 else reversed(urls):
            session = processes.session(name)
            proxy, served = cpu_seconds(session), cpu_seconds(upstream)
            wrk = run_wrk(urls[name], script, seconds=seconds, connections=32, threads=1, cpus="0")
            figures = (
                wrk.rps,
                wrk.p99_ms,
                (cpu_seconds(session) - proxy) * 1e6 / wrk.requests,
                (cpu_seconds(upstream) - served) * 1e6 / wrk.requests,
            )
            results[name].append(figures)
            print(f"round {round_ + 1} {line(name, figures)}  load {os.getloadavg()[0]:.1f}")
    return results


def line(name: str, figures: Figures, nginx: float | None = None) -> str:
    rps, p99, proxy, upstream = figures
    ratio = f" = {rps / nginx:.2f} x nginx" if nginx else ""
    return (
        f"{name:16} {rps:8,.0f} req/s{ratio}  p99 {p99:6.2f} ms  "
        f"CPU µs/req proxy {proxy:5.1f} upstream {upstream:5.1f}"
    )


def arguments(description: str) -> argparse.Namespace:
    """Rounds, seconds a round and `--before`, as this bench and postgres_chain.py take them."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--before", help="another checkout's src: its gateway is measured too")
    return parser.parse_args()


def medians(results: dict[str, list[Figures]]) -> dict[str, Figures]:
    return {
        name: tuple(statistics.median(run[i] for run in runs) for i in range(4))  # type: ignore[misc]
        for name, runs in results.items()
    }


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    tmp = Path(tempfile.mkdtemp(prefix="termgate-bare-"))
    os.environ["TERMGATE_VAR_DIR"] = str(tmp / "var")  # one secret key for every gateway
    processes = Processes(logs=tmp)
    try:
        seeded = start_seeded_upstream(processes, tmp)
        upstream, path, headers = seeded.port, seeded.path, seeded.headers
        script = write_script(tmp, headers)
        ports = start_targets(processes, tmp, upstream, path, headers, args.before)
        urls = {name: f"http://127.0.0.1:{port}{path}" for name, port in ports.items()}
        results = measure(processes, urls, script, args.rounds, args.seconds)
        medianed = medians(results)
        nginx = medianed["nginx"][0]
        for name, figures in medianed.items():
            print(f"median {line(name, figures, nginx)}")
    finally:
        processes.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
