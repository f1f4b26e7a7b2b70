"""The request path: the six steps of docs/architecture.md, in order, over an RSGI request.

identify → admit → authorize → limit run on the in-memory snapshot and catalog; the first that
refuses answers with its problem document. Only a company the gateway has not seen yet makes
the path wait, in the explicit `resolve_tenant` step (one upstream lookup, then remembered).
forward streams to the upstream and back; observe records one usage event whatever the outcome.
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
from termgate.gateway.exchange import Exchange, refuse
from termgate.gateway.forward import RSGIRequest, answer_problem, open_exchange, relay
from termgate.gateway.identify import identify
from termgate.gateway.limit import limit
from termgate.gateway.limits.gate import Limits
from termgate.gateway.limits.in_flight import InFlight
from termgate.gateway.limits.memory import MemoryLimiter
from termgate.gateway.observe import UsageRecorder
from termgate.gateway.snapshot import KeyGrant, SnapshotHolder
from termgate.gateway.tenants import CompanyDirectory
from termgate.problems import GATEWAY_ERROR, UPSTREAM_ERROR, ProblemResponse
from termgate.upstream_client.pool import UpstreamConnection, UpstreamPool

log = logging.getLogger(__name__)
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
        limits: Limits | None = None,
        body_timeout: float = 10.0,
    ) -> None:
        self.snapshots = snapshots
        self.limits = limits or Limits(MemoryLimiter())
        self.pool = pool
        self.usage = usage
        self.upstream_host = upstream_host
        self.body_timeout = body_timeout
        self.in_flight = InFlight()
        self.catalog: Catalog | None = None
        self.companies = CompanyDirectory(pool, upstream_host)
        self._id_prefix = os.urandom(6).hex() + "-"
        self._ids = itertools.count(1)

    def _request_id(self) -> str:
        """The gateway's own id: the usage event's key, whatever the client sent."""
        return f"{self._id_prefix}{next(self._ids):x}"

    async def handle(self, scope: Any, protocol: Any) -> None:
        started = perf_counter()
        headers = scope.headers
        exchange = Exchange(
            scope.method,
            scope.path,
            scope.query_string,
            headers,
            self._request_id(),
            started,
            wall_clock(),
        )
        client_id = headers.get("x-request-id")
        if client_id and _acceptable_request_id(client_id):
            exchange.client_request_id = client_id
        held: KeyGrant | None = None  # the application whose in-flight place this request holds
        rate: list[tuple[str, str]] | None = None
        try:
            try:
                problem = await self._decide(exchange)
                if problem is None:
                    problem, held = self._enter_in_flight(exchange)
                opened, rate = await self._limit_and_open(exchange, problem, scope, protocol)
            except Exception:
                # A fault of the gateway's own, before any answer went out: still a problem
                # document and a usage event, never a bare 500.
                log.exception("gateway step failed on %s %r", exchange.method, exchange.path)
                opened = refuse(exchange, GATEWAY_ERROR, "The gateway failed on this request.")
            if isinstance(opened, UpstreamConnection):
                grant = exchange.grant
                lifecycle = self.snapshots.current.policy.headers  # clause 4.6
                try:
                    await relay(exchange, opened, protocol, self.pool, lifecycle, rate)
                finally:
                    self.usage.record(exchange, perf_counter())
                    if grant is not None:
                        self.limits.spent(grant, exchange.bytes_out)
                return
            answer_problem(exchange, opened, protocol, rate)
            self.usage.record(exchange, perf_counter())
        finally:
            if held is not None:
                self.in_flight.leave(held)

    async def _decide(self, exchange: Exchange) -> ProblemResponse | None:
        """Steps 1-4 on the snapshot; a company not seen yet costs one upstream lookup."""
        catalog = self.catalog
        if catalog is None:
            return refuse(
                exchange, UPSTREAM_ERROR, "The API's description has not been loaded yet."
            )
        snapshot = self.snapshots.current
        problem = (
            identify(exchange, snapshot, catalog)
            or admit(exchange, snapshot.policy)
            or authorize(exchange, self.companies)
        )
        if problem is None and exchange.company_pending:
            problem = await resolve_tenant(exchange, self.companies)
        return problem or limit(exchange)

    def _enter_in_flight(
        self, exchange: Exchange
    ) -> tuple[ProblemResponse | None, KeyGrant | None]:
        """Clause 3.3 f: the plan's cap on requests under way; the refusal, or the grant whose
        place this request now holds (released when it ends, whatever the outcome)."""
        grant = exchange.grant
        cap = grant.limits.max_in_flight if grant is not None else None
        if grant is None or cap is None:
            return None, None
        problem = self.in_flight.enter(exchange, grant, cap)
        return problem, (grant if problem is None else None)

    async def _limit_and_open(
        self, exchange: Exchange, problem: ProblemResponse | None, scope: Any, protocol: Any
    ) -> tuple[UpstreamConnection | ProblemResponse, list[tuple[str, str]] | None]:
        """Clauses 3.3 f-h, 4.4: the counters, then step 5 up to the upstream's response head;
        with the RateLimit headers of every answer past identify."""
        rate: list[tuple[str, str]] | None = None
        grant = exchange.grant
        if grant is not None and grant.limits.counted:
            if problem is None:
                problem, rate = await self.limits.admit(exchange, grant)
            else:
                rate = self.limits.headers(grant)
        if problem is not None:
            return problem, rate
        request = RSGIRequest(scope, protocol, self.body_timeout)
        return await open_exchange(exchange, request, self.pool, self.upstream_host), rate
