"""Micro-benchmark: what the usage event's detection fields cost the request path.

    uv run python bench/usage_fields_cost.py [--number N] [--repeat R]

Times `UsageRecorder.record` for one request that passed every step (a real operation of the
published contract with a company and an employee in its path, a real bearer and key grant),
against the same method as it was before the fields (`record_before` below: the 15 columns of
revision 0014), and once more behind a trusted proxy that sends `X-Forwarded-For`. Prints the
best of R runs of N calls in ns per request and the difference. The issue's bound: 3 µs added.
Results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.builders import Headers, bearer, grant

from termgate.core.proxies import ClientAddresses, TrustedProxies
from termgate.gateway.catalog import Catalog
from termgate.gateway.exchange import Exchange
from termgate.gateway.observe import UsageRecorder
from termgate.reference_api import document
from termgate.settings import proxy_networks

COMPANY = "6f2c1d2e-5a4b-4c3d-8e9f-0a1b2c3d4e5f"
EMPLOYEE = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
PATH = f"/api/companies/{COMPANY}/employees/{EMPLOYEE}/absences"


def record_before(self: UsageRecorder, exchange: Exchange, finished: float) -> None:
    """`UsageRecorder.record` of revision 0014, for the comparison."""
    grant, operation, bearer = exchange.grant, exchange.operation, exchange.bearer
    self.buffer.append(
        (  # type: ignore[arg-type]
            exchange.started_at,
            exchange.request_id,
            grant.key_id if grant else None,
            grant.application_id if grant else None,
            grant.developer_id if grant else None,
            exchange.method,
            operation.template if operation else None,
            exchange.status,
            exchange.code,
            exchange.bytes_in,
            exchange.bytes_out,
            (finished - exchange.started) * 1000.0,
            bearer.end_user_id if bearer else None,
            operation.data_category if operation else None,
            exchange.client_request_id,
        )
    )


def passed(headers: dict[str, str]) -> Exchange:
    """A request past every step, as the gateway holds it when it records the event."""
    catalog = Catalog.from_openapi(document())
    resolved = catalog.resolve("POST", PATH)
    assert resolved is not None
    sent = Exchange("POST", PATH, "", Headers(headers), "r-1", 1.0, 2.0, peer="10.0.0.2:41000")
    sent.operation, sent.tenant_ids = resolved
    sent.grant = grant()
    sent.bearer = bearer(scopes=frozenset({"employee.leave", "employee.info.read"}))
    sent.status, sent.bytes_in, sent.bytes_out = 201, 512, 4096
    return sent


def recorder(clients: ClientAddresses) -> UsageRecorder:
    return UsageRecorder(
        None,  # type: ignore[arg-type]  # record() never touches the database
        flush_seconds=1,
        batch_size=10,
        buffer_limit=10,
        clients=clients,
    )


def best(call: object, number: int, repeat: int) -> float:
    # CPU time of this process, not wall time: the machine may be busy with other work.
    runs = timeit.repeat(call, number=number, repeat=repeat, timer=time.process_time)  # type: ignore[arg-type]
    return min(runs) / number * 1e9


def timed(usage: UsageRecorder, sent: Exchange, method: object, args: argparse.Namespace) -> float:
    def call() -> None:
        method(usage, sent, 2.0)  # type: ignore[operator]
        usage.buffer.clear()

    return best(call, args.number, args.repeat)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--number", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    direct = passed({})
    proxied = passed({"x-forwarded-for": "198.51.100.7, 203.0.113.9"})
    plain = recorder(ClientAddresses())
    behind = recorder(ClientAddresses(TrustedProxies(proxy_networks("10.0.0.0/8"))))
    plain.record(direct, 2.0)
    behind.record(proxied, 2.0)
    print("row:", plain.buffer[-1][-5:], behind.buffer[-1][-2])
    before = timed(plain, direct, record_before, args)
    after = timed(plain, direct, UsageRecorder.record, args)
    forwarded = timed(behind, proxied, UsageRecorder.record, args)
    for label, value in (
        ("record before the fields     ", before),
        ("record with them, direct     ", after),
        ("record with them, via a proxy", forwarded),
    ):
        print(f"{label}: {value:7.0f} ns per request ({value - before:+.0f})")


if __name__ == "__main__":
    main()
