"""The whole chain alone (the upstream and one termgate gateway, in-process limits) for the benches
that watch the gateway rather than compare it: the profile (`profile_gateway.py`) and the soak
(`soak.py`). Same upstream, database, credentials and request as `run.py`; the gateway runs as
`observed_gateway.py`, which reports its memory and sizes from inside.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from targets import (
    PATH,
    ROOT,
    Processes,
    free_port,
    get,
    in_sessions,
    prepare_database,
    read_tenants,
    start_upstream,
    wait_for_200,
)
from termgate.reference_api.defaults import DEFAULT_EMPLOYEES, DEFAULT_SEED


@dataclass(frozen=True)
class Chain:
    port: int
    headers: dict[str, str]
    path: str
    report: Path  # the gateway's JSON lines (observed_gateway.py)
    db_path: Path
    upstream_port: int
    consented: tuple[str, ...]  # the token's debtors

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"


def start_chain(
    processes: Processes, tmp: Path, cpus: str | None, report_seconds: float = 10.0
) -> Chain:
    upstream_port, port = free_port(), free_port()
    db_path = tmp / "bench.db"
    database_url = f"sqlite+aiosqlite:///{db_path}"
    issuer = f"http://127.0.0.1:{port}"
    start_upstream(processes, upstream_port, DEFAULT_EMPLOYEES, DEFAULT_SEED, cpus)
    tenants = read_tenants(upstream_port)
    path = PATH.format(**tenants.own)
    headers = prepare_database(database_url, tmp, issuer, tenants.consented)
    report = tmp / "gateway-report.jsonl"
    env = {
        "TERMGATE_DATABASE_URL": database_url,
        "TERMGATE_PORT": str(port),
        "TERMGATE_UPSTREAM_URL": f"http://127.0.0.1:{upstream_port}",
        "TERMGATE_WORKERS": "1",
        "TERMGATE_LOG_LEVEL": "warning",
        "TERMGATE_PUBLIC_URL": issuer,
        "TERMGATE_BENCH_REPORT": str(report),
        "TERMGATE_BENCH_REPORT_SECONDS": str(report_seconds),
    }
    command = [sys.executable, str(ROOT / "bench" / "observed_gateway.py")]
    processes.start("termgate", command, cpus=cpus, env=env)
    wait_for_200(processes, "termgate", port, path, headers)
    return Chain(port, headers, path, report, db_path, upstream_port, tenants.consented)


def spread_paths(chain: Chain, limit: int) -> list[str]:
    """Requests over the consent's whole reach, read from the upstream: every consented
    company's first page of employees, and each employee of those pages (up to `limit` paths in
    all). The gateway learns each company and employee once (the tenant memory grows to them,
    then stays)."""
    paths: list[str] = []
    for debtor in chain.consented:
        companies = _listing(chain.upstream_port, f"/api/debtors/{debtor}/companies?pageSize=100")
        for company in companies:
            company_id = company["companyId"]
            paths.append(PATH.format(companyId=company_id))
            listing = f"/api/companies/{company_id}/employees?pageSize=100"
            for employee in _listing(chain.upstream_port, listing):
                paths.append(f"/api/employees/{employee['employeeId']}")
                if len(paths) >= limit:
                    return paths
    return paths


def _listing(port: int, path: str) -> list[dict[str, Any]]:
    status, body = get(port, path, {})
    if status != 200:
        raise RuntimeError(f"the upstream answered {status} to GET {path}")
    items: list[dict[str, Any]] = json.loads(body)["data"]
    return items


def session_pids(session: int) -> list[int]:
    """The live processes of a session (a server: its main process and any worker processes)."""
    return sorted(pid for pid, _ in in_sessions({session}))


def worker_pid(session: int) -> int:
    """The gateway's worker: with one worker the server serves in its own process (the session's
    leader); with several, the last of the processes it started."""
    workers = [pid for pid in session_pids(session) if pid != session]
    return workers[-1] if workers else session
