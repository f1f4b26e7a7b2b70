"""Step 5, forward: stream the request to the upstream and the answer back to the client (or
the problem document of a refusal)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from termgate.gateway.exchange import CLIENT_CLOSED, Exchange, refuse, upstream_failed
from termgate.gateway.traffic.response_cap import relay_capped, relayed_whole
from termgate.http_server.request import ProtocolClosedError
from termgate.problems import (
    BODY_INCOMPLETE,
    BODY_TIMEOUT,
    UPSTREAM_ERROR,
    UPSTREAM_TIMEOUT,
    ProblemResponse,
)
from termgate.upstream_client.pool import (
    UpstreamConnection,
    UpstreamError,
    UpstreamPool,
    UpstreamTimeoutError,
)

# Request headers that end at the gateway: hop-by-hop ones (RFC 9110 §7.6.1), the framing and
# forwarding headers it writes itself (with every X-Forwarded-* one, below), the credentials it
# checks (the subscription key and the end user's token), and the end-user headers only the
# gateway may set (the upstream trusts them).
DROPPED_REQUEST_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "expect",
        "x-request-id",
        "x-client-request-id",
        "forwarded",
        "x-subscription-key",
        "authorization",
    }
)
# Any header under these prefixes is the gateway's to set: X-Termgate-User, X-Termgate-Debtors,
# …, and X-Forwarded-For/-Host/-Proto; any other X-Forwarded-* a client sends is dropped too.
GATEWAY_HEADER_PREFIXES = ("x-termgate-", "x-forwarded-")
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})


class RequestBodyTimeoutError(Exception):
    """The client sent no more of its body within `body_timeout` seconds (→ 408)."""


class RequestBodyIncompleteError(Exception):
    """The body ended before it was complete: the client went away or sent a malformed chunk
    (→ 400; the upstream connection, which has part of it, is never reused)."""


class RequestSource(Protocol):
    """Where the request's headers and body come from (the server interface)."""

    # Seconds to wait for each next piece of the body (setting `request_body_timeout`).
    body_timeout: float

    def header_items(self) -> list[tuple[str, str]]: ...
    def client_ip(self) -> str: ...
    def body_chunks(self) -> AsyncIterator[bytes]: ...


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

    async def body_chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self.protocol:
            yield chunk


def forwarded_lines(public_url: str) -> str:
    """The `X-Forwarded-Host` and `X-Forwarded-Proto` lines naming the gateway's public address
    (`public_url`), formatted once: the upstream builds its absolute links (the pagination
    envelope's) from them, so clients follow them back to the gateway."""
    parts = urlsplit(public_url)
    host = parts.netloc.rpartition("@")[2]
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"public URL {public_url!r}: the scheme must be http or https")
    if not host or not host.isascii() or not host.isprintable() or " " in host:
        raise ValueError(f"public URL {public_url!r}: no host to name in X-Forwarded-Host")
    return f"x-forwarded-host: {host}\r\nx-forwarded-proto: {parts.scheme}\r\n"


def request_head(
    exchange: Exchange, source: RequestSource, upstream_host: str, forwarded: str
) -> tuple[bytes, str | None]:
    """The request line and headers for the upstream, and the body framing ("length"/"chunked");
    `forwarded` is `forwarded_lines` of the gateway's public URL."""
    # One string grown in place (CPython appends to a str nobody else holds without a copy):
    # cheaper than a list of pieces and a join for a head of a few lines.
    query = exchange.query
    head = (
        f"{exchange.method} {exchange.target}?{query} HTTP/1.1\r\nhost: {upstream_host}\r\n"
        if query
        else f"{exchange.method} {exchange.target} HTTP/1.1\r\nhost: {upstream_host}\r\n"
    )
    forwarded_for = source.client_ip()
    framing: str | None = None
    for name, value in source.header_items():
        if name not in DROPPED_REQUEST_HEADERS and not name.startswith(GATEWAY_HEADER_PREFIXES):
            head += f"{name}: {value}\r\n"
        elif name == "x-forwarded-for":
            forwarded_for = f"{value}, {forwarded_for}"
        elif name == "content-length":
            if value != "0":
                framing = "length"
                head += f"content-length: {value}\r\n"
        elif name == "transfer-encoding":
            framing = "chunked"
    if framing == "chunked":
        head += "transfer-encoding: chunked\r\n"
    bearer = exchange.bearer
    if bearer is not None:
        head += bearer.upstream_headers  # formatted once per token
    if exchange.client_request_id is not None:
        head += f"x-client-request-id: {exchange.client_request_id}\r\n"
    head += (
        f"x-request-id: {exchange.request_id}\r\nx-forwarded-for: {forwarded_for}\r\n"
        f"{forwarded}\r\n"
    )
    return head.encode("latin-1"), framing


async def _body(source: RequestSource) -> AsyncIterator[bytes]:
    """The client's body, each piece awaited at most `body_timeout` seconds (clause 3.3 f): a
    client that stops sending holds an upstream connection only that long."""
    chunks = aiter(source.body_chunks())
    timeout = source.body_timeout
    while True:
        try:
            # wait_for, not asyncio.timeout: a request runs without a Task (http_server.stepped)
            chunk = await asyncio.wait_for(anext(chunks), timeout)
        except StopAsyncIteration:
            return
        except ProtocolClosedError as error:
            raise RequestBodyIncompleteError(str(error)) from None
        except TimeoutError:
            raise RequestBodyTimeoutError(
                f"no more of the request body arrived within {timeout:g} s"
            ) from None
        yield chunk


async def _send_body(
    connection: UpstreamConnection, exchange: Exchange, source: RequestSource, framing: str
) -> None:
    async for chunk in _body(source):
        if not chunk:
            continue
        exchange.bytes_in += len(chunk)
        if framing == "chunked":
            await connection.write_body(b"%x\r\n%b\r\n" % (len(chunk), chunk))
        else:
            await connection.write_body(chunk)
    if framing == "chunked":
        await connection.write_body(b"0\r\n\r\n")


async def open_exchange(
    exchange: Exchange,
    source: RequestSource,
    pool: UpstreamPool,
    upstream_host: str,
    forwarded: str,
) -> UpstreamConnection | ProblemResponse:
    """Send the request; return the connection with the response head in, or a problem."""
    head, framing = request_head(exchange, source, upstream_host, forwarded)
    method = exchange.method
    retry = framing is None and method in IDEMPOTENT
    while True:
        # A pooled connection is taken without a coroutine; only a new one is awaited.
        connection = pool.take_idle()
        if connection is None:
            try:
                connection = await pool.acquire()
            except UpstreamError as error:
                return upstream_failed(exchange, UPSTREAM_ERROR, error)
        try:
            connection.start(head, is_head=method == "HEAD", timeout=pool.timeout)
            if framing is not None:
                await _send_body(connection, exchange, source, framing)
            await connection.ready  # response_ready() without its coroutine
            if connection.failure is not None:
                raise connection.failure
            return connection
        except (RequestBodyTimeoutError, RequestBodyIncompleteError) as error:
            pool.discard(connection)  # half a request went out: never reused
            timed_out = isinstance(error, RequestBodyTimeoutError)
            problem = refuse(exchange, BODY_TIMEOUT if timed_out else BODY_INCOMPLETE, str(error))
            problem.headers.append(("connection", "close"))
            return problem
        except UpstreamTimeoutError as error:
            pool.release(connection)
            return upstream_failed(exchange, UPSTREAM_TIMEOUT, error)
        except UpstreamError as error:
            pool.release(connection)
            # A pooled connection the upstream closed while idle: try once on a fresh one.
            if retry and connection.reused and not connection.headers_done:
                retry = False
                continue
            return upstream_failed(exchange, UPSTREAM_ERROR, error)


def answer_problem(
    exchange: Exchange,
    problem: ProblemResponse,
    protocol: Any,
    rate: list[tuple[str, str]] | None = None,
) -> None:
    headers = [
        ("content-type", exchange.errors.content_type),
        ("x-request-id", exchange.request_id),
        *problem.headers,
    ]
    if rate:
        headers.extend(rate)
    exchange.bytes_out = len(problem.body)
    protocol.response_bytes(problem.status, headers, problem.body)


async def relay(
    exchange: Exchange,
    connection: UpstreamConnection,
    protocol: Any,
    pool: UpstreamPool,
    lifecycle: Mapping[str, Sequence[tuple[str, str]]],
    rate: list[tuple[str, str]] | None = None,
) -> None:
    """The upstream's answer to the client: its head with the gateway's headers (the request
    id, clause 4.6's lifecycle headers, the RateLimit ones), then its body, whole or
    streamed; within the plan's response cap (clause 3.3 e) when it has one."""
    # The gateway's own headers; the upstream's go as the bytes it sent (`connection.relayed`).
    headers = [("x-request-id", exchange.request_id)]
    if lifecycle and exchange.operation is not None:
        headers.extend(lifecycle.get(exchange.operation.operation_id, ()))
    if rate:
        headers.extend(rate)
    exchange.status = connection.status
    grant = exchange.grant
    cap = grant.limits.max_response_bytes if grant is not None else None
    # The usual answer, whole in hand and within any cap, goes out in one call; relay_capped
    # would relay it the same way (clause 3.3 e), after two more coroutines.
    if connection.complete and (cap is None or relayed_whole(connection.buffered, cap)):
        body = connection.take_body()
        pool.release(connection)
        exchange.bytes_out = len(body)
        protocol.response_bytes(connection.status, headers, body, connection.relayed)
        return
    if cap is not None:  # clause 3.3 e
        problem = await relay_capped(exchange, connection, protocol, headers, pool, cap)
        if problem is not None:
            answer_problem(exchange, problem, protocol, rate)
        return
    stream = protocol.response_stream(connection.status, headers, connection.relayed)
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
    except ProtocolClosedError:
        exchange.code = CLIENT_CLOSED  # the client went away mid-body; nothing to answer
    finally:
        pool.release(connection)
