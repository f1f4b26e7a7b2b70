"""The state of one request as it passes the pipeline's steps."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from termgate.gateway.bearer import Bearer
from termgate.gateway.catalog import Operation
from termgate.gateway.snapshot import KeyGrant
from termgate.gateway.tenancy.check import Unplaced
from termgate.problems import DEFAULT_WRITER, ProblemResponse, ProblemWriter, Refusal

log = logging.getLogger("termgate.gateway")

# The usage code of a request whose client went away before the body ended (not a refusal).
CLIENT_CLOSED = 49900


class Headers(Protocol):
    """The request headers as the server hands them over (lower-case names)."""

    def get(self, key: str, default: str | None = None) -> str | None: ...


class Exchange:
    """One request: who sent it, what it asks for, and what came of it (for usage events)."""

    __slots__ = (
        "bearer",
        "bytes_in",
        "bytes_out",
        "client_request_id",
        "code",
        "errors",
        "grant",
        "headers",
        "method",
        "operation",
        "path",
        "peer",
        "query",
        "request_id",
        "started",
        "started_at",
        "status",
        "target",
        "tenant_ids",
        "unplaced",
    )

    def __init__(
        self,
        method: str,
        path: str,
        query: str,
        headers: Headers,
        request_id: str,
        started: float,
        started_at: float,
        errors: ProblemWriter = DEFAULT_WRITER,
        peer: str = "",
    ) -> None:
        self.method = method
        self.path = path  # percent-decoded, as matched
        self.target = path  # what is forwarded: the matched path re-encoded (see `target`)
        self.query = query
        self.headers = headers
        self.request_id = request_id
        self.started = started
        self.started_at = started_at
        self.errors = errors  # how this gateway writes its problems
        self.peer = peer  # the RSGI peer `host:port`: the usage event's client address
        self.grant: KeyGrant | None = None
        self.operation: Operation | None = None
        self.bearer: Bearer | None = None
        self.tenant_ids: tuple[str, ...] = ()  # the path's tenant ids, as its operation's plan
        self.unplaced: Unplaced | None = None  # ids authorize left to the upstream's listings
        self.status = 0
        self.code: int | None = None
        self.bytes_in = 0
        self.bytes_out = 0
        # The client's own X-Request-Id, if acceptable: recorded and passed on, never the key.
        self.client_request_id: str | None = None


def refuse(exchange: Exchange, refusal: Refusal, detail: str, **extra: Any) -> ProblemResponse:
    """The problem a step answers with; the exchange records it for the usage event."""
    exchange.status = refusal.status
    exchange.code = refusal.code
    body = exchange.errors.render(refusal, detail, exchange.request_id, **extra)
    return ProblemResponse(refusal.status, body)


def upstream_failed(exchange: Exchange, refusal: Refusal, error: Exception) -> ProblemResponse:
    """A 502/504 for a failure between the gateway and the upstream. The failure itself names
    internal addresses and listing paths, so it goes to the log with the request id; the
    client learns only that the API failed and the id to quote."""
    log.warning(
        "request %s %s %s: %s %d: %s",
        exchange.request_id,
        exchange.method,
        exchange.path,
        refusal.title,
        refusal.code,
        error,
        extra={"request_id": exchange.request_id},
    )
    detail = (
        f"{refusal.title}; the provider can trace this failure by its request id "
        f"{exchange.request_id}."
    )
    return refuse(exchange, refusal, detail)
