"""The request path: the six steps of DESIGN §2, in order, over an RSGI request.

identify → admit → authorize → limit run on the in-memory snapshot and catalog; the first that
refuses answers with its problem document. Only a company the gateway has not seen yet makes
authorize wait (one upstream lookup, then remembered). forward streams to the upstream; observe
records one usage event whatever the outcome.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from granian._granian import RSGIProtocolClosed as ProtocolClosed

from termgate.gateway.admit import admit
from termgate.gateway.authorize import LEARN_COMPANY, authorize, decide_company
from termgate.gateway.catalog import Catalog
from termgate.gateway.exchange import Exchange, refuse
from termgate.gateway.forward import open_exchange
from termgate.gateway.identify import identify
from termgate.gateway.observe import UsageRecorder
from termgate.gateway.snapshot import SnapshotHolder
from termgate.gateway.tenants import CompanyDirectory
from termgate.gateway.traffic.step import TrafficPolicy
from termgate.gateway.upstream_pool import UpstreamConnection, UpstreamError, UpstreamPool
from termgate.problems import (
    GATEWAY_ERROR,
    PROBLEM_CONTENT_TYPE,
    UNEXPECTED_BODY,
    UPSTREAM_ERROR,
    ProblemResponse,
)

log = logging.getLogger(__name__)
CLIENT_CLOSED = 49900  # recorded when the client disconnects before the body ends
BODILESS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})  # unless the API describes a body
perf_counter = time.perf_counter
wall_clock = time.time


class RSGIRequest:
    """The forward step's view of an RSGI request."""

    __slots__ = ("body_timeout", "protocol", "scope")

    def __init__(self, scope: Any, protocol: Any, body_timeout: float) -> None:
        self.scope = scope
        self.protocol = protocol
        self.body_timeout = body_timeout

    def header_items(self) -> list[tuple[str, str]]:
        items: list[tuple[str, str]] = self.scope.headers.items()
        return items

    def client_ip(self) -> str:
        client: str = self.scope.client
        return client.rsplit(":", 1)[0]

    def scheme(self) -> str:
        scheme: str = self.scope.scheme
        return scheme

    async def body_chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self.protocol:
            yield chunk


def _acceptable_request_id(value: str) -> bool:
    return 0 < len(value) <= 128 and value.isascii() and value.isprintable() and " " not in value


def unexpected_body(exchange: Exchange) -> ProblemResponse | None:
    """A body on a GET, HEAD, DELETE or OPTIONS the API describes without one: refused, not
    forwarded (the upstream would not read it, and the connection would break)."""
    operation = exchange.operation
    if exchange.method not in BODILESS or (operation is not None and operation.accepts_body):
        return None
    headers = exchange.headers
    length = headers.get("content-length")
    if (length is None or length == "0") and headers.get("transfer-encoding") is None:
        return None
    return refuse(exchange, UNEXPECTED_BODY, f"{exchange.method} requests here take no body.")


class Gateway:
    def __init__(
        self,
        snapshots: SnapshotHolder,
        pool: UpstreamPool,
        usage: UsageRecorder,
        upstream_host: str,
        traffic: TrafficPolicy | None = None,
        body_timeout: float = 10.0,
    ) -> None:
        self.snapshots = snapshots
        self.traffic = traffic or TrafficPolicy()  # step 4, limit
        self.pool = pool
        self.usage = usage
        self.upstream_host = upstream_host
        self.body_timeout = body_timeout
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
        admitted = False  # by the limit step, which then hears how the request ended
        sent = 0
        rate: list[tuple[str, str]] | None = None
        try:
            try:
                problem = await self._admit(exchange)
                problem, rate = await self.traffic.before(exchange, problem)
                admitted = problem is None
                if problem is None:
                    request = RSGIRequest(scope, protocol, self.body_timeout)
                    opened = await open_exchange(exchange, request, self.pool, self.upstream_host)
                else:
                    opened = problem
            except Exception:
                # A fault of the gateway's own, before any answer went out: still a problem
                # document and a usage event, never a bare 500.
                log.exception("gateway step failed on %s %r", exchange.method, exchange.path)
                opened = refuse(exchange, GATEWAY_ERROR, "The gateway failed on this request.")
            if isinstance(opened, UpstreamConnection):
                try:
                    await self._relay(exchange, opened, protocol, rate)
                finally:
                    self.usage.record(exchange, perf_counter())
                    sent = exchange.bytes_out
                return
            self._answer_problem(exchange, opened, protocol, rate)
            self.usage.record(exchange, perf_counter())
        finally:
            if admitted:
                self.traffic.after(exchange, sent)

    async def _admit(self, exchange: Exchange) -> ProblemResponse | None:
        """Steps 1-3 on the snapshot; a company not seen yet costs one upstream lookup."""
        problem = self._check(exchange)
        if problem is LEARN_COMPANY:
            problem = await self._learn_company(exchange)
        return problem

    def _check(self, exchange: Exchange) -> ProblemResponse | None:
        catalog = self.catalog
        if catalog is None:
            return refuse(
                exchange, UPSTREAM_ERROR, "The API's description has not been loaded yet."
            )
        snapshot = self.snapshots.current
        return (
            identify(exchange, snapshot, catalog)
            or unexpected_body(exchange)
            or admit(exchange, snapshot.policy)
            or authorize(exchange, self.companies)
        )

    async def _learn_company(self, exchange: Exchange) -> ProblemResponse | None:
        assert exchange.tenant_id is not None
        try:
            owner = await self.companies.learn(exchange.tenant_id)
        except UpstreamError as error:
            return refuse(exchange, UPSTREAM_ERROR, str(error))
        return decide_company(exchange, owner)

    def _answer_problem(
        self,
        exchange: Exchange,
        problem: ProblemResponse,
        protocol: Any,
        rate: list[tuple[str, str]] | None = None,
    ) -> None:
        headers = [
            ("content-type", PROBLEM_CONTENT_TYPE),
            ("x-request-id", exchange.request_id),
            *problem.headers,
        ]
        if rate:
            headers.extend(rate)
        exchange.bytes_out = len(problem.body)
        protocol.response_bytes(problem.status, headers, problem.body)

    async def _relay(
        self,
        exchange: Exchange,
        connection: UpstreamConnection,
        protocol: Any,
        rate: list[tuple[str, str]] | None = None,
    ) -> None:
        headers = connection.headers
        headers.append(("x-request-id", exchange.request_id))
        lifecycle = self.snapshots.current.policy.headers  # clause 4.6: Deprecation, Sunset
        if lifecycle and exchange.operation is not None:
            headers.extend(lifecycle.get(exchange.operation.operation_id, ()))
        if rate:
            headers.extend(rate)
        exchange.status = connection.status
        cap = self.traffic.response_cap(exchange)
        if cap is not None:  # clause 3.3 e
            problem = await self.traffic.relay_capped(
                exchange, connection, protocol, headers, self.pool, cap
            )
            if problem is not None:
                self._answer_problem(exchange, problem, protocol, rate)
            return
        if connection.complete:
            body = connection.take_body() if connection.body else b""
            self.pool.release(connection)
            exchange.bytes_out = len(body)
            protocol.response_bytes(connection.status, headers, body)
            return
        stream = protocol.response_stream(connection.status, headers)
        try:
            chunk: bytes | None = connection.take_body() if connection.body else b""
            while chunk is not None:
                if chunk:
                    exchange.bytes_out += len(chunk)
                    await stream.send_bytes(chunk)
                chunk = await connection.next_body()
        except UpstreamError:
            # The head is already sent: the client sees the body cut short, as it should.
            exchange.code = UPSTREAM_ERROR.code
            raise
        except ProtocolClosed:
            exchange.code = CLIENT_CLOSED  # the client went away mid-body; nothing to answer
        finally:
            self.pool.release(connection)
