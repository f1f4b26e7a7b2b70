"""Start-up time and memory of the published-contract reference API, as `python -m` runs it.

    uv run python bench/reference_api_footprint.py [--employees 2000 100000] [--companies 100]

For each size: start `python -m termgate.reference_api` on a free port, time until it answers
`GET /api/companies`, read the worker's RSS, read two pages of 50 of four employee views of up to
`--companies` companies, and read the worker's RSS again (the generated records and cached answers
are bounded, so it levels off). Also prints the main (granian) process's RSS.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[1] == str(pid):
                found.append(int(entry))
    return found


def measure(employees: int, companies: int) -> str:
    port = _free_port()
    started = time.perf_counter()
    command = [sys.executable, "-m", "termgate.reference_api", "--port", str(port),
               "--employees", str(employees)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                if httpx.get(f"{base}/api/companies", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        ready = time.perf_counter() - started
        worker = _children(process.pid)[0]
        at_start = _rss_mib(worker)
        reads = 0
        with httpx.Client(base_url=base, timeout=30) as client:
            listed = client.get("/api/companies", params={"pageSize": 100}).json()["data"]
            for company in listed[:companies]:
                for view in ("", "/contracts", "/addresses", "/salaries"):
                    for page in (1, 2):
                        path = f"/api/companies/{company['companyId']}/employees{view}"
                        client.get(path, params={"pageNumber": page, "pageSize": 50})
                        reads += 1
        return (
            f"--employees {employees}: answers after {ready:.2f} s; worker RSS {at_start:.0f} MiB "
            f"at start, {_rss_mib(worker):.0f} MiB after {reads} listings of 50; "
            f"main process {_rss_mib(process.pid):.0f} MiB"
        )
    finally:
        process.terminate()
        process.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--employees", type=int, nargs="+", default=[2000, 100_000])
    parser.add_argument("--companies", type=int, default=100)
    args = parser.parse_args()
    for employees in args.employees:
        print(measure(employees, args.companies))


if __name__ == "__main__":
    main()
