"""The request path: the six steps of docs/architecture.md, in order, over an RSGI request.

identify → admit → authorize → limit run on the in-memory snapshot and catalog; the first that
refuses answers with its problem document. Only a tenant id the gateway has not placed yet makes
the path wait, in the explicit `resolve_tenant` step (one walk of the upstream's listings, then
remembered). forward streams to the upstream and back; observe records one usage event whatever
the outcome. A write that succeeded may have created a tenant (an employee of the company in its
path): the resolver walks that listing again on the next unknown id instead of after its refresh.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from typing import Any

from termgate.gateway.admit import admit
from termgate.gateway.authorize import authorize, resolve_tenant
from termgate.gateway.catalog import Catalog
from termgate.gateway.counters import GatewayCounters
from termgate.gateway.exchange import Exchange, refuse
from termgate.gateway.forward import (
    RSGIRequest,
    answer_problem,
    forwarded_lines,
    open_exchange,
    relay,
)
from termgate.gateway.identify import identify
from termgate.gateway.observe import UsageRecorder
from termgate.gateway.snapshot import SnapshotHolder
from termgate.gateway.tenancy.config import load_tenancy
from termgate.gateway.tenancy.resolver import TenantResolver
from termgate.gateway.tenancy.upstream import pool_fetch
from termgate.gateway.traffic.step import TrafficPolicy
from termgate.problems import (
    DEFAULT_WRITER,
    GATEWAY_ERROR,
    UPSTREAM_ERROR,
    ProblemResponse,
    ProblemWriter,
)
from termgate.upstream_client.pool import UpstreamConnection, UpstreamPool

log = logging.getLogger(__name__)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
perf_counter = time.perf_counter
wall_clock = time.time


def _acceptable_request_id(value: str) -> bool:
    return 0 < len(value) <= 128 and value.isascii() and value.isprintable() and " " not in value


class Gateway:
    def __init__(
        self,
        snapshots: SnapshotHolder,
        pool: UpstreamPool,
        usage: UsageRecorder,
        upstream_host: str,
        public_url: str,
        traffic: TrafficPolicy | None = None,
        body_timeout: float = 10.0,
        errors: ProblemWriter = DEFAULT_WRITER,
        resolver: TenantResolver | None = None,
    ) -> None:
        self.snapshots = snapshots
        self.traffic = traffic or TrafficPolicy()  # step 4, limit
        self.pool = pool
        self.usage = usage
        self.upstream_host = upstream_host
        # X-Forwarded-Host/-Proto of the gateway's own public address, formatted once
        self.forwarded = forwarded_lines(public_url)
        self.body_timeout = body_timeout
        self.errors = errors
        self.catalog: Catalog | None = None
        self.counters = GatewayCounters()  # the operator's /metrics (gateway/metrics.py)
        # step 3's memory of who owns each tenant id (default: the published contract's tenancy)
        self.resolver = resolver or TenantResolver(load_tenancy(), pool_fetch(pool, upstream_host))
        self._id_prefix = os.urandom(6).hex() + "-"
        self._ids = itertools.count(1)

    async def handle(self, scope: Any, protocol: Any) -> None:
        started = perf_counter()
        headers = scope.headers
        exchange = Exchange(
            scope.method,
            scope.path,
            scope.query_string,
            headers,
            # the gateway's own id: the usage event's key, whatever the client sent
            f"{self._id_prefix}{next(self._ids):x}",
            started,
            wall_clock(),
            self.errors,
            scope.client,
        )
        client_id = headers.get("x-request-id")
        if client_id and _acceptable_request_id(client_id):
            exchange.client_request_id = client_id
        admitted = False  # by the limit step, which then hears how the request ended
        sent = 0
        rate: list[tuple[str, str]] | None = None
        try:
            try:
                problem = self._decide(exchange)
                if problem is None and exchange.unplaced:
                    problem = await resolve_tenant(exchange, self.resolver)
                problem, rate = await self.traffic.before(exchange, problem)
                admitted = problem is None
                if problem is None:
                    request = RSGIRequest(scope, protocol, self.body_timeout)
                    opened = await open_exchange(
                        exchange, request, self.pool, self.upstream_host, self.forwarded
                    )
                else:
                    opened = problem
            except Exception:
                # A fault of the gateway's own, before any answer went out: still a problem
                # document and a usage event, never a bare 500.
                log.exception(
                    "gateway step failed on %s %r",
                    exchange.method,
                    exchange.path,
                    extra={"request_id": exchange.request_id},
                )
                opened = refuse(exchange, GATEWAY_ERROR, "The gateway failed on this request.")
            if isinstance(opened, UpstreamConnection):
                lifecycle = self.snapshots.current.policy.headers  # clause 4.6
                try:
                    await relay(exchange, opened, protocol, self.pool, lifecycle, rate)
                finally:
                    finished = perf_counter()
                    self.usage.record(exchange, finished)
                    self.counters.forwarded(
                        exchange.status, exchange.code, finished - exchange.started
                    )
                    sent = exchange.bytes_out
                if exchange.method in WRITES and 200 <= exchange.status < 300:
                    self._written(exchange)
                return
            answer_problem(exchange, opened, protocol, rate)
            self.usage.record(exchange, perf_counter())
            self.counters.answered(exchange.status, exchange.code)
        finally:
            if admitted:
                self.traffic.after(exchange, sent)

    def _decide(self, exchange: Exchange) -> ProblemResponse | None:
        """Steps 1-3 on the snapshot and catalog alone (no await: the common case costs no
        coroutine); ids the tenant check could not place are left in `exchange.unplaced`, for
        `resolve_tenant`'s one upstream lookup."""
        catalog = self.catalog
        if catalog is None:
            return refuse(
                exchange, UPSTREAM_ERROR, "The API's description has not been loaded yet."
            )
        snapshot = self.snapshots.current
        return (
            identify(exchange, snapshot, catalog)
            or admit(exchange, snapshot.policy)
            or authorize(exchange, self.resolver)
        )

    def _written(self, exchange: Exchange) -> None:
        operation = exchange.operation
        assert operation is not None
        tenants = [
            (kind, canonical)
            for (_, kind), raw in zip(operation.tenancy.tenants, exchange.tenant_ids, strict=True)
            if (canonical := kind.canonical(raw)) is not None
        ]
        if tenants:
            self.resolver.written(tenants)
