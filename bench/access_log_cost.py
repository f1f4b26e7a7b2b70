"""Micro-benchmark: what the access log costs the gateway's observe step, off and on.

    uv run python bench/access_log_cost.py [--number N] [--repeat R]

Times `UsageRecorder.record` for one exchange: without an access log (the request path as it
was: the class's own method, plus the one `is not None` test in `Gateway.handle` that sets the
peer address only when the log is on), and with it on, writing JSON to /dev/null. Prints the
best of R runs of N calls, in ns per request. Results: docs/logs.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from termgate.core import logs
from termgate.core.access_log import AccessLog
from termgate.gateway.exchange import Exchange
from termgate.gateway.observe import UsageRecorder


def recorder(access: AccessLog | None) -> UsageRecorder:
    return UsageRecorder(
        None,  # type: ignore[arg-type]  # record() never touches the database
        flush_seconds=1,
        batch_size=10,
        buffer_limit=10,
        access=access,
    )


def exchange() -> Exchange:
    sent = Exchange("GET", "/api/companies/2001/employees", "pageSize=20", {}, "r-1", 1.0, 2.0)
    sent.status, sent.bytes_out, sent.peer = 200, 4096, "127.0.0.1:40000"
    return sent


def best(call: object, number: int, repeat: int) -> float:
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number * 1e9  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--number", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sink = open(os.devnull, "w")  # noqa: SIM115  # open for the whole run
    logs.configure("info", "json", sink)
    sent = exchange()
    for label, access in (("off", None), ("on", AccessLog())):
        usage = recorder(access)

        def call(usage: UsageRecorder = usage) -> None:
            if usage.access is not None:  # Gateway.handle's test
                sent.peer = "127.0.0.1:40000"
            usage.record(sent, 2.0)
            usage.buffer.clear()

        print(f"access log {label}: {best(call, args.number, args.repeat):8.0f} ns per request")

    plain = recorder(None)

    def baseline() -> None:
        UsageRecorder.record(plain, sent, 2.0)
        plain.buffer.clear()

    print(f"record alone  : {best(baseline, args.number, args.repeat):8.0f} ns per request")


if __name__ == "__main__":
    main()
