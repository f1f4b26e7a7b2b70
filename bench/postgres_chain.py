"""The whole chain on PostgreSQL (the cluster mode's database and usage writer) under wrk.

    uv run python bench/postgres_chain.py                       # 3 rounds of 5 s
    uv run python bench/postgres_chain.py --before ../old/src   # and another checkout's gateway

One upstream as in run.py (the published contract's reference API, the bench's request; servers
on CPU 1, wrk on CPU 0) and the gateway (`python -m termgate.server`, limits in process) on a
scratch PostgreSQL database created on the server at `usage_ingest.POSTGRES_ADMIN`, migrated and
seeded as run.py seeds its SQLite file, and dropped after. With `--before`, the gateway of another
checkout's `src` on the same database, in turns. Printed per round and as medians: req/s, p99, and
the CPU µs per request of the gateway's process (the database server's not counted) and of the
upstream. The usage writer flushes every second: how long a flush holds the serving event loop
shows in the p99.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bare_proxies import arguments, line, measure, medians
from loadgen import write_script
from targets import (
    Processes,
    gateway_env,
    start_seeded_upstream,
    wait_for_200,
)
from usage_ingest import scratch_postgresql


def start_gateways(
    processes: Processes, database_url: str, upstream: int, before: str | None
) -> dict[str, int]:
    ports: dict[str, int] = {}
    for name, source in {"gateway": None, **({"gateway before": before} if before else {})}.items():
        port, env = gateway_env(database_url, upstream, source)
        env["TERMGATE_WORKERS"] = "1"
        processes.start(name, [sys.executable, "-m", "termgate.server"], cpus="1", env=env)
        ports[name] = port
    return ports


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    with tempfile.TemporaryDirectory(prefix="termgate-pg-chain-") as folder:
        tmp = Path(folder)
        processes = Processes(logs=tmp)
        try:
            with scratch_postgresql() as database_url:
                seeded = start_seeded_upstream(processes, tmp, database_url=database_url)
                upstream, path, headers = seeded.port, seeded.path, seeded.headers
                ports = start_gateways(processes, database_url, upstream, args.before)
                for name, port in ports.items():
                    wait_for_200(processes, name, port, path, headers)
                urls = {name: f"http://127.0.0.1:{port}{path}" for name, port in ports.items()}
                script = write_script(tmp, headers)
                results = measure(processes, urls, script, args.rounds, args.seconds)
                processes.stop_all()  # before the database is dropped
        finally:
            processes.stop_all()
    for name, figures in medians(results).items():
        print(f"median {line(name, figures)}")


if __name__ == "__main__":
    main()
