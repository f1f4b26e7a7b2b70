"""What sharing a node's limit counters between its workers would cost per request (issue 11).

    uv run python bench/shared_counters.py [--calls 50000]

CPU µs per `acquire` (rate per application, rate per developer, monthly quota: the counters a
request of the whole chain touches), measured with `time.process_time` (so the machine's other
load does not count), median of 5 rounds, the cases interleaved round by round:

- in process: `MemoryLimiter.acquire`, today's embedded limiter (one worker);
- shared memory: the same three counters in a file mapped by every worker (`/dev/shm`), read,
  judged by `gcra.decide` and written under an `fcntl` lock (released by the kernel if a worker
  dies holding it); slots found by a hash precomputed per grant, as a snapshot could. A
  prototype of the cheapest form of option (a), not of its quota periods, bandwidth days,
  seeding or table growth;
- the same, with a second process doing the same on the same counters at the same time
  (contention for the lock, as two busy workers would);
- a counter process: one request and answer over a Unix socket to a process that keeps the
  counters (client + server CPU), the "tiny local counter process" form;
- SQLite: the counters in a shared SQLite file (WAL, synchronous=OFF), one `BEGIN IMMEDIATE`
  transaction per request.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import mmap
import multiprocessing
import os
import socket
import sqlite3
import statistics
import struct
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from termgate.gateway.traffic.gcra import SECOND_US, Verdict, decide
from termgate.gateway.traffic.memory_limiter import MemoryLimiter
from termgate.gateway.traffic.plan_limits import PlanLimits

ROUNDS = 5
SLOTS = 1 << 16
SLOT = struct.Struct("<Qq")  # key hash, value (a TAT in µs or a count)


@dataclass(frozen=True)
class Grant:
    """What the snapshot hands the limiter for a key (`plan_limits.Counted`)."""

    limits: PlanLimits
    key_id: str = "key-1"
    app_counter: str = "app-1"
    developer_counter: str = "dev-1"


LIMITS = PlanLimits(rate=1_000_000, developer_rate=1_000_000, quota=10**12, counted=True)
GRANT = Grant(LIMITS)


def slot_of(counter: str) -> int:
    return int.from_bytes(hashlib.blake2b(counter.encode(), digest_size=8).digest(), "little")


class SharedCounters:
    """Counters in a shared mapping, one lock for the read-decide-write of a request."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.ftruncate(self.fd, SLOTS * SLOT.size)
        self.map = mmap.mmap(self.fd, SLOTS * SLOT.size)
        self.app, self.dev, self.quota = (
            slot_of(name) for name in (GRANT.app_counter, GRANT.developer_counter, "q:2026-11")
        )

    def _offset(self, key: int) -> int:
        index = key % SLOTS
        while True:  # open addressing; a real table would also need growth and deletion
            stored, _ = SLOT.unpack_from(self.map, index * SLOT.size)
            if stored in (key, 0):
                return index * SLOT.size
            index = (index + 1) % SLOTS

    def acquire(self, now: float) -> Verdict:
        verdict = Verdict()
        fcntl.lockf(self.fd, fcntl.LOCK_EX)
        try:
            app, dev, quota = (self._offset(key) for key in (self.app, self.dev, self.quota))
            verdict.quota_used = SLOT.unpack_from(self.map, quota)[1]
            decide(
                LIMITS,
                verdict,
                int(now * SECOND_US),
                SLOT.unpack_from(self.map, app)[1],
                SLOT.unpack_from(self.map, dev)[1],
            )
            if not verdict.refused:
                SLOT.pack_into(self.map, app, self.app, verdict.app_tat)
                SLOT.pack_into(self.map, dev, self.dev, verdict.developer_tat)
                SLOT.pack_into(self.map, quota, self.quota, verdict.quota_used + 1)
        finally:
            fcntl.lockf(self.fd, fcntl.LOCK_UN)
        return verdict


def _contend(path: str, stop: float) -> None:
    counters = SharedCounters(Path(path))
    while time.monotonic() < stop:
        counters.acquire(time.time())


def _counter_server(sock: socket.socket) -> None:
    limiter = MemoryLimiter()
    while data := sock.recv(64):
        verdict = limiter.acquire(GRANT, struct.unpack("<d", data[:8])[0])
        sock.sendall(struct.pack("<qq", verdict.app_tat, verdict.developer_tat))


def cpu_us(loop: Callable[[int], None], calls: int) -> float:
    started = time.process_time()
    loop(calls)
    return (time.process_time() - started) * 1e6 / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50_000)
    calls = parser.parse_args().calls
    folder = Path(tempfile.mkdtemp(dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    shared = SharedCounters(folder / "counters")
    memory = MemoryLimiter()

    def in_process(n: int) -> None:
        for _ in range(n):
            memory.acquire(GRANT, time.time())

    def shared_memory(n: int) -> None:
        for _ in range(n):
            shared.acquire(time.time())

    def contended(n: int) -> None:
        rival = multiprocessing.get_context("spawn").Process(
            target=_contend, args=(str(folder / "counters"), time.monotonic() + 60)
        )
        rival.start()
        time.sleep(1.0)  # its interpreter is up and looping
        try:
            shared_memory(n)
        finally:
            rival.terminate()
            rival.join()

    ours, theirs = socket.socketpair()
    server = multiprocessing.get_context("fork").Process(target=_counter_server, args=(theirs,))
    server.start()
    theirs.close()
    server_pid = server.pid
    assert server_pid is not None

    def counter_process(n: int) -> None:
        for _ in range(n):
            ours.sendall(struct.pack("<d", time.time()) + GRANT.app_counter.encode())
            ours.recv(64)

    database = sqlite3.connect(folder / "counters.db", isolation_level=None)
    database.executescript(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
        "CREATE TABLE c (k TEXT PRIMARY KEY, v INTEGER);"
        "INSERT INTO c VALUES ('app-1', 0), ('dev-1', 0), ('q', 0);"
    )

    def sqlite_file(n: int) -> None:
        for _ in range(n):
            database.execute("BEGIN IMMEDIATE")
            app, dev, quota = (v for (v,) in database.execute("SELECT v FROM c ORDER BY k"))
            verdict = Verdict()
            verdict.quota_used = quota
            decide(LIMITS, verdict, int(time.time() * SECOND_US), app, dev)
            database.executemany(
                "UPDATE c SET v = ? WHERE k = ?",
                [(verdict.app_tat, "app-1"), (verdict.developer_tat, "dev-1"), (quota + 1, "q")],
            )
            database.execute("COMMIT")

    cases: dict[str, Callable[[int], None]] = {
        "in process (today, one worker)": in_process,
        "shared memory + fcntl lock": shared_memory,
        "shared memory, a second process contending": contended,
        "counter process over a Unix socket (client + server)": counter_process,
        "SQLite file, one transaction": sqlite_file,
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(ROUNDS):
        for name, loop in cases.items():
            if name.startswith("counter process"):
                own = cpu_us(loop, calls)
                results[name].append(own + _server_cpu_us(server_pid, calls))
            else:
                results[name].append(cpu_us(loop, calls))
    ours.close()
    server.terminate()  # the forked server holds a copy of `ours`: it would never see the end
    server.join()
    print(f"CPU µs per acquire, median of {ROUNDS} rounds of {calls} calls (load {_load()}):")
    for name, values in results.items():
        print(f"  {name:<55} {statistics.median(values):7.2f}   rounds {_fmt(values)}")


_server_cpu: dict[int, float] = {}


def _server_cpu_us(pid: int, calls: int) -> float:
    """The counter server's CPU since its last reading, per call, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    seconds = ticks / os.sysconf("SC_CLK_TCK")
    spent = seconds - _server_cpu.get(pid, 0.0)
    _server_cpu[pid] = seconds
    return spent * 1e6 / calls


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _fmt(values: list[float]) -> str:
    return " ".join(f"{value:.2f}" for value in values)


if __name__ == "__main__":
    main()
