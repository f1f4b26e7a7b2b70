"""The servers under test: the published-contract reference API (`bench/counted_upstream.py`),
nginx in front of it, termgate in front; and the ids the bench reads from the upstream.

Every process starts in its own session (so a stop reaches its workers) and is stopped by
`Processes.stop_all`, which the bench calls in a `finally`: SIGINT for the Python servers (the
gateway's server then runs its shutdown, which flushes its usage events), SIGQUIT for nginx,
SIGKILL to the whole group if one does not stop in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The bench's request, a company's employees: the gateway checks the key, the end user's token,
# the scope (employee.info.read) and that the consent covers the company's debtor (clause 3.3 a,
# e). The ids are read from the upstream: {debtorId}, {companyId}, {employeeId} (read_tenants).
PATH = "/api/companies/{companyId}/employees?pageNumber=1&pageSize=20"

NGINX_CONF = """\
{user}worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    client_body_temp_path {tmp}/nginx-client-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    upstream payroll {{
        server 127.0.0.1:{upstream_port};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=2048;
        location / {{
            proxy_pass http://payroll;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_nginx_conf(tmp: Path, port: int, upstream_port: int) -> Path:
    conf = tmp / "nginx.conf"
    # As root, nginx's workers would run as `nobody`, who cannot use the private temp dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(user=user, tmp=tmp, port=port, upstream_port=upstream_port))
    return conf


def get(port: int, path: str, headers: dict[str, str], timeout: float = 2.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass
class Processes:
    """Started processes by name, stopped in reverse order of start."""

    started: list[tuple[str, subprocess.Popen[bytes], int]] = field(default_factory=list)
    logs: Path = Path()

    def start(
        self, name: str, command: list[str], *, cpus: str | None, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        if cpus is not None:
            command = ["taskset", "-c", cpus, *command]  # taskset execs: same pid
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            start_new_session=True,
        )
        log.close()
        stop_signal = signal.SIGQUIT if name == "nginx" else signal.SIGINT
        self.started.append((name, process, stop_signal))
        return process

    def session(self, name: str) -> int:
        """The session id of a started process (its pid: each starts a new session)."""
        return next(process.pid for n, process, _ in self.started if n == name)

    def sessions(self) -> list[int]:
        """The session ids of every started process."""
        return [process.pid for _, process, _ in self.started]

    def output(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self, name: str, timeout: float = 20.0) -> int | None:
        for entry in list(self.started):
            if entry[0] == name:
                self.started.remove(entry)
                return _stop(entry[1], entry[2], timeout)
        return None

    def stop_all(self) -> None:
        while self.started:
            _, process, stop_signal = self.started.pop()
            _stop(process, stop_signal, 10.0)


def _stop(process: subprocess.Popen[bytes], stop_signal: int, timeout: float) -> int | None:
    if process.poll() is None:
        try:
            process.send_signal(stop_signal)
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    else:
        # The leader is gone; make sure no worker of its group outlives it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    return process.returncode


def wait_for_200(
    processes: Processes,
    name: str,
    port: int,
    path: str,
    headers: dict[str, str],
    timeout: float = 120.0,
) -> None:
    process = next(p for n, p, _ in processes.started if n == name)
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = processes.output(name)
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{output}")
        try:
            status, body = get(port, path, headers)
            if status == 200:
                return
            last = f"{status} {body[:200]!r}"
        except OSError as error:
            last = str(error)
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer 200 within {timeout:g} s ({last})")


def start_upstream(
    processes: Processes, port: int, employees: int, seed: int, cpus: str | None
) -> None:
    """The published API with the bench's request counter, on `port`, until it answers."""
    command = [sys.executable, str(ROOT / "bench" / "counted_upstream.py"), "--port", str(port)]
    command += ["--employees", str(employees), "--seed", str(seed)]
    processes.start("upstream", command, cpus=cpus)
    wait_for_200(processes, "upstream", port, "/api/debtors", {})


def upstream_counts(port: int, watch: str | None = None) -> dict[str, Any]:
    """The counted upstream's request counts; with `watch`, first make that the watched request
    (path?query) and start its count at zero."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        if watch is None:
            connection.request("GET", "/_bench/requests")
        else:
            connection.request("POST", "/_bench/watch", body=watch.encode())
        counts: dict[str, Any] = json.loads(connection.getresponse().read())
        return counts
    finally:
        connection.close()


@dataclass(frozen=True)
class Tenants:
    """Ids read from the upstream for the bench's end user: the debtors of the consent, and the
    ids a path template may name (`debtorId`, `companyId`, `employeeId`), once inside the consent
    and once under the one debtor left out of it."""

    consented: tuple[str, ...]
    own: dict[str, str]
    foreign: dict[str, str]


def _data(port: int, path: str) -> list[dict[str, Any]]:
    status, body = get(port, path, {})
    if status != 200:
        raise RuntimeError(f"the upstream answered {status} to GET {path}: {body[:300]!r}")
    items: list[dict[str, Any]] = json.loads(body)["data"]
    if not items:
        raise RuntimeError(f"the upstream listed nothing at GET {path}")
    return items


def _ids_under(port: int, debtor: str) -> dict[str, str]:
    company = _data(port, f"/api/debtors/{debtor}/companies?pageSize=1")[0]["companyId"]
    employee = _data(port, f"/api/companies/{company}/employees?pageSize=1")[0]["employeeId"]
    return {"debtorId": debtor, "companyId": company, "employeeId": employee}


def read_tenants(port: int) -> Tenants:
    """All debtors but the last are consented; the first one's first company (and its first
    employee) is the bench's, the last debtor's is another customer's."""
    debtors = [item["debtorId"] for item in _data(port, "/api/debtors?pageSize=100")]
    if len(debtors) < 2:
        raise RuntimeError(f"the upstream has {len(debtors)} debtor(s); the bench needs two")
    return Tenants(tuple(debtors[:-1]), _ids_under(port, debtors[0]), _ids_under(port, debtors[-1]))


def prepare_database(
    database_url: str, tmp: Path, issuer: str, debtors: tuple[str, ...]
) -> dict[str, str]:
    """Migrate a fresh database, seed it with `termgate seed` and mint the bench's end user's
    access token over `debtors`; returns the request headers: the production key and the bearer
    token."""
    from termgate.db.migrate import upgrade

    upgrade(database_url)
    credentials = tmp / "credentials.json"
    done = subprocess.run(
        [sys.executable, "-m", "termgate", "seed", "--credentials", str(credentials)],
        env={**os.environ, "TERMGATE_DATABASE_URL": database_url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"termgate seed failed:\n{done.stdout}{done.stderr}")
    from consent import mint_token

    seeded = json.loads(credentials.read_text())
    never_biting_limits(database_url)
    token = mint_token(database_url, seeded["application_id"], issuer, debtors)
    return {
        "X-Subscription-Key": seeded["production_subscription_key"],
        "Authorization": f"Bearer {token}",
    }


# The public URL of the benches' gateways side by side: the one token of `start_seeded_upstream`
# names it as its issuer, so every gateway accepts it.
ISSUER = "http://127.0.0.1:1"


@dataclass(frozen=True)
class SeededUpstream:
    """The bench's upstream, its request's path, and the headers of a seeded database's key and
    end user (`tmp/seeded.db`), for the benches that put gateways side by side on one upstream."""

    port: int
    path: str
    headers: dict[str, str]


def start_seeded_upstream(
    processes: Processes, tmp: Path, database_url: str | None = None
) -> SeededUpstream:
    """The upstream on CPU 1 with its default data, and the database (default `tmp/seeded.db`)
    migrated and seeded (`prepare_database`) for the first consented debtor's company."""
    from termgate.reference_api.defaults import DEFAULT_EMPLOYEES, DEFAULT_SEED

    port = free_port()
    start_upstream(processes, port, DEFAULT_EMPLOYEES, DEFAULT_SEED, "1")
    tenants = read_tenants(port)
    database = database_url or f"sqlite+aiosqlite:///{tmp / 'seeded.db'}"
    headers = prepare_database(database, tmp, ISSUER, tenants.consented)
    return SeededUpstream(port, PATH.format(**tenants.own), headers)


def gateway_env(
    database_url: str, upstream: int, source: str | None = None
) -> tuple[int, dict[str, str]]:
    """A free port and the environment of a bench's gateway on `database_url` (`source`:
    another checkout's src, put first on its PYTHONPATH)."""
    port = free_port()
    env = {
        "TERMGATE_DATABASE_URL": database_url,
        "TERMGATE_PORT": str(port),
        "TERMGATE_UPSTREAM_URL": f"http://127.0.0.1:{upstream}",
        "TERMGATE_LOG_LEVEL": "warning",
        "TERMGATE_PUBLIC_URL": ISSUER,
        **({"PYTHONPATH": str(Path(source).resolve())} if source else {}),
    }
    return port, env


def seeded_gateway(
    tmp: Path, name: str, upstream: int, source: str | None = None
) -> tuple[int, dict[str, str]]:
    """`gateway_env` on a copy of `tmp/seeded.db` of the gateway's own."""
    database = tmp / f"{name.replace(' ', '-')}.db"
    shutil.copy(tmp / "seeded.db", database)
    return gateway_env(f"sqlite+aiosqlite:///{database}", upstream, source)


# The seeded production plan with every limit on (clauses 3.3 e-h, 4.4), set so high that none
# bites during the bench: the gateway counts the rate (per application and per developer), the
# quota and the bandwidth, checks the response size and the users served, on every request.
BENCH_LIMITS = {
    "rate_limit_per_minute": 1_000_000_000,
    "developer_rate_limit_per_minute": 1_000_000_000,
    "quota_per_period": 1_000_000_000_000,
    "bandwidth_bytes_per_day": 1_000_000_000_000_000,
    "max_response_bytes": 10 * 1024 * 1024,
    "max_end_users": 10_000,
    "max_debtors": 10_000,
}


def never_biting_limits(database_url: str) -> None:
    """Give the seeded production plan the bench's limits (SQLite or PostgreSQL)."""
    from sqlalchemy import text

    from termgate.db.engine import create_engine

    assignments = ", ".join(f"{name} = {value}" for name, value in BENCH_LIMITS.items())

    async def update() -> None:
        engine = create_engine(database_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text(f"UPDATE plans SET {assignments} WHERE slug = 'standard'")
                )
        finally:
            await engine.dispose()

    asyncio.run(update())


def stat_fields(stat_file: Path) -> list[str] | None:
    """The fields of a `/proc/…/stat` file after "pid (comm) " (0: state, 1: parent pid,
    3: session id, 11 and 12: user and system ticks); None for a process that is gone."""
    try:
        stat = stat_file.read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def live_processes() -> Iterator[tuple[int, list[str]]]:
    """Each process's pid and `stat_fields`."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := stat_fields(entry / "stat")) is not None:
            yield int(entry.name), fields


def cpu_seconds(session: int) -> float:
    """User plus system CPU of every live process in a session (all its threads)."""
    return sessions_cpu_seconds({session})


def in_sessions(sessions: Collection[int]) -> Iterator[tuple[int, list[str]]]:
    """`live_processes` of any of `sessions`."""
    return ((pid, fields) for pid, fields in live_processes() if int(fields[3]) in sessions)


def sessions_cpu_seconds(sessions: Collection[int]) -> float:
    """User plus system CPU of every live process in any of `sessions`."""
    ticks = sum(int(fields[11]) + int(fields[12]) for _, fields in in_sessions(sessions))
    return ticks / CLOCK_TICKS


def context_switches(session: int) -> int:
    """How many times the threads of a session's live processes gave up the CPU, waiting
    (voluntary) or taken off it (involuntary), from `/proc/PID/task/TID/status`."""
    switches = 0
    for pid, _ in in_sessions({session}):
        for task in Path(f"/proc/{pid}/task").glob("*/status"):
            try:
                status = task.read_text()
            except OSError:
                continue  # a thread that ended meanwhile
            for line in status.splitlines():
                if "ctxt_switches:" in line:  # voluntary_… and nonvoluntary_…
                    switches += int(line.split()[1])
    return switches


def wait_until_quiet(
    sessions: Collection[int], *, window: float = 0.1, busy_ms: float = 20.0, limit: float = 5.0
) -> float:
    """Wait until the servers of `sessions` used at most `busy_ms` of CPU in each of two
    `window`s in a row, at most `limit` seconds; returns the seconds waited. A gateway writes
    its last usage batch for ~200 ms after a load stops: without the wait that lands in the
    first moments of the next target's run, and in its p99."""
    started = time.monotonic()
    quiet_windows = 0
    used = sessions_cpu_seconds(sessions)
    while quiet_windows < 2 and time.monotonic() - started < limit:
        time.sleep(window)
        now = sessions_cpu_seconds(sessions)
        quiet_windows = quiet_windows + 1 if (now - used) * 1000 <= busy_ms else 0
        used = now
    return time.monotonic() - started


def count_usage_events(db_path: Path) -> int:
    import sqlite3

    with sqlite3.connect(db_path) as connection:
        (count,) = connection.execute("SELECT count(*) FROM usage_events").fetchone()
    return int(count)
