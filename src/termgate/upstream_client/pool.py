"""Keep-alive HTTP/1.1 connections to the upstream, parsed with llhttp (httptools).

This is the gateway's hottest code. General-purpose clients (aiohttp, httpx) cost 40-65 µs of
CPU per request in objects this path never needs (docs/performance.md). Here a pooled connection
is an `asyncio.Protocol` that writes the request head in one call (at the end of its
event-loop turn, with the turn's other heads) and hands back the status, the
header lines to relay (as the bytes that go to the client) and, for the common small response
that arrives in one read, the whole body, so the server can answer with a single call. Larger
bodies stream with flow control. Deadlines are checked by one sweeper task instead of a timer
per request.
"""

from __future__ import annotations

import asyncio
import time
from typing import cast

import httptools

# Hop-by-hop headers (RFC 9110 §7.6.1), the framing and the date the server writes itself (the
# date as nginx does: the answer's own clock), and the request id the gateway sets itself.
DROPPED_RESPONSE_HEADERS = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
        b"date",
        b"x-request-id",
    }
)

# Each field name the upstream sends, as its line opens in the client's answer (b"\r\nName: "),
# b"" when it ends at the gateway; memoised so that a response's usual fields cost one lookup.
_FIELD_OPENINGS: dict[bytes, bytes] = {}
_FIELD_OPENINGS_KEPT = 1024  # an upstream inventing names does not grow the memo past this

HIGH_WATER = 1 << 20  # bytes buffered from the upstream before we stop reading


class UpstreamError(Exception):
    """The upstream could not be reached or broke the exchange (→ 502)."""


class UpstreamTimeoutError(UpstreamError):
    """The upstream did not answer before the deadline (→ 504)."""


def field_opening(name: bytes) -> bytes:
    """The start of the response field's line as relayed (a line break, the name as sent and
    ": "), b"" for a field that ends at the gateway."""
    opening = b"" if name.lower() in DROPPED_RESPONSE_HEADERS else b"\r\n" + name + b": "
    if len(_FIELD_OPENINGS) < _FIELD_OPENINGS_KEPT:
        _FIELD_OPENINGS[name] = opening
    return opening


class UpstreamConnection(asyncio.Protocol):
    """One keep-alive connection carrying one exchange at a time."""

    __slots__ = (
        "_body_waiter",
        "_drained",
        "_loop",
        "_parser",
        "_pool",
        "_ready",
        "body",
        "buffered",
        "complete",
        "deadline",
        "failure",
        "headers_done",
        "is_head",
        "keep_alive",
        "relayed",
        "reused",
        "status",
        "transport",
    )

    def __init__(self, pool: UpstreamPool) -> None:
        self._pool = pool
        self.transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpResponseParser(self)
        self._ready: asyncio.Future[None] | None = None
        self._body_waiter: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None
        self.reused = False
        self.status = 0
        # The relayed header lines, each opening with its line break: the bytes that go to the
        # client as they are (llhttp refused the answer if a name or value held a CR, LF, NUL or
        # other control character, or a folded line), never decoded and encoded again.
        self.relayed: list[bytes] = []
        self.body: list[bytes] = []  # taken whole by take_body, so a list, not a deque
        self.buffered = 0
        self.headers_done = False
        self.complete = False
        self.keep_alive = True
        self.failure: UpstreamError | None = None
        self.deadline = 0.0
        self.is_head = False

    # asyncio.Protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self.fail(UpstreamError(f"malformed response from the upstream: {error}"))
            return
        if self.headers_done:
            # _wake_ready() and _wake_body(), inline: this runs for every read of every answer.
            ready = self._ready
            if ready is not None and not ready.done():
                ready.set_result(None)
            waiter = self._body_waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            if not self.complete:
                # While a body streams, the deadline bounds the silence between reads.
                self.deadline = time.monotonic() + self._pool.timeout
                if self.buffered > HIGH_WATER and self.transport is not None:
                    self.deadline = 0.0  # paused for the client, not waiting on the upstream
                    self.transport.pause_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self._pool.forget(self)
        self.transport = None
        if self.headers_done and not self.complete and not self.keep_alive:
            self.complete = True  # a body delimited by the connection's close
        elif not self.complete:
            self.failure = self.failure or UpstreamError(
                "the upstream closed the connection" + (f": {exc}" if exc else "")
            )
        self._wake_ready()
        self._wake_body()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    # httptools callbacks ----------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        opening = _FIELD_OPENINGS.get(name)
        if opening is None:
            opening = field_opening(name)
        if opening:
            self.relayed.append(opening + value)

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        self.keep_alive = self._parser.should_keep_alive()
        self.headers_done = True
        if self.is_head:  # llhttp cannot know a HEAD response has no body
            self.complete = True
            self._parser = httptools.HttpResponseParser(self)

    def on_body(self, body: bytes) -> None:
        self.body.append(body)
        self.buffered += len(body)

    def on_message_complete(self) -> None:
        self.complete = True

    # the exchange -----------------------------------------------------------------------------

    def start(self, head: bytes, *, is_head: bool, timeout: float) -> None:
        """Send a request head (and any body already in hand), arm the deadline and `ready`."""
        self.status = 0
        self.relayed = []
        self.body = []
        self.buffered = 0
        self.headers_done = False
        self.complete = False
        self.keep_alive = True
        self.failure = None
        self.is_head = is_head
        self.deadline = time.monotonic() + timeout
        self._ready = self._loop.create_future()
        assert self.transport is not None
        self._pool.send_this_turn(self, head)

    async def write_body(self, chunk: bytes) -> None:
        if self.transport is None:
            raise self.failure or UpstreamError("the upstream closed the connection")
        self._pool.send_heads()  # this exchange's head goes first
        self.transport.write(chunk)
        if self._drained is not None:
            await self._drained

    @property
    def ready(self) -> asyncio.Future[None]:
        """Done once the status and headers are in (with any body that came with them) or the
        exchange failed: the hot path awaits it, then looks at `failure`."""
        assert self._ready is not None, "no exchange started"
        return self._ready

    async def response_ready(self) -> None:
        """Return when the status and headers are in (and any body that came with them)."""
        await self.ready
        if self.failure is not None:
            raise self.failure

    def take_body(self) -> bytes:
        """All body bytes received so far, as one buffer."""
        chunks = self.body
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self.buffered = 0
        if self.transport is not None and not self.complete and not self.deadline:
            self.deadline = time.monotonic() + self._pool.timeout
            self.transport.resume_reading()
        return data

    async def next_body(self) -> bytes | None:
        """The next body bytes of a streamed response; None at its end."""
        while not self.body:
            if self.failure is not None:
                raise self.failure
            if self.complete:
                return None
            self._body_waiter = asyncio.get_running_loop().create_future()
            await self._body_waiter
        return self.take_body()

    def fail(self, failure: UpstreamError) -> None:
        self.failure = failure
        self.keep_alive = False
        if self.transport is not None:
            self.transport.abort()
        self._wake_ready()
        self._wake_body()

    def _wake_ready(self) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(None)

    def _wake_body(self) -> None:
        if self._body_waiter is not None and not self._body_waiter.done():
            self._body_waiter.set_result(None)


class UpstreamPool:
    """Idle connections reused last-in first-out; a sweeper enforces response deadlines."""

    def __init__(
        self, host: str, port: int, *, max_idle: int, connect_timeout: float, timeout: float
    ) -> None:
        self.host = host
        self.port = port
        self.max_idle = max_idle
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self._idle: list[UpstreamConnection] = []
        # Every open connection, idle or busy: the sweeper looks for an unfinished exchange past
        # its deadline, so acquire and release need not move connections between sets.
        self._open: set[UpstreamConnection] = set()
        self._sweeper: asyncio.Task[None] | None = None
        # The request heads of this event-loop turn, sent together at its end: see send_heads.
        self._heads: list[tuple[UpstreamConnection, bytes]] = []

    def send_this_turn(self, connection: UpstreamConnection, head: bytes) -> None:
        """Queue a request head; `send_heads` writes it before the loop next waits for I/O."""
        heads = self._heads
        if not heads:
            asyncio.get_running_loop().call_soon(self.send_heads)
        heads.append((connection, head))

    def send_heads(self) -> None:
        """Write the queued request heads, one `send` each, in the order they were queued.

        A loop turn serves all the client requests that arrived together; their heads then reach
        an upstream on the same host in one burst rather than one at a time in between the
        gateway's work, so the upstream, woken less often, serves more of them per wake-up, and
        the gateway is preempted less (docs/performance.md, "Request heads sent at the end of a
        loop turn"). The delay is the rest of one turn, and nothing when requests come one by one.
        """
        heads, self._heads = self._heads, []
        for connection, head in heads:
            transport = connection.transport
            if transport is None or transport.is_closing():
                continue  # closed meanwhile: its exchange has failed already
            try:
                transport.write(head)
            except (OSError, RuntimeError) as error:  # this exchange fails, not the others
                connection.fail(UpstreamError(f"sending the request to the upstream: {error}"))

    def take_idle(self) -> UpstreamConnection | None:
        """An idle connection still open, now busy; None when a new one must be made."""
        idle = self._idle
        while idle:
            connection = idle.pop()
            transport = connection.transport
            if transport is not None and not transport.is_closing():
                connection.reused = True
                return connection
        return None

    @property
    def busy(self) -> int:
        """How many open connections are out of the idle list (for the operator's figures)."""
        return len(self._open) - len(self._idle)

    async def acquire(self) -> UpstreamConnection:
        connection = self.take_idle()
        if connection is not None:
            return connection
        return await self._connect()

    async def _connect(self) -> UpstreamConnection:
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await asyncio.wait_for(
                loop.create_connection(lambda: UpstreamConnection(self), self.host, self.port),
                self.connect_timeout,
            )
        except TimeoutError:
            raise UpstreamError(f"connecting to {self.host}:{self.port} timed out") from None
        except OSError as error:
            raise UpstreamError(f"cannot connect to {self.host}:{self.port}: {error}") from None
        if self._sweeper is None:
            self._sweeper = loop.create_task(self._sweep())
        self._open.add(protocol)
        return protocol

    def release(self, connection: UpstreamConnection) -> None:
        """Return a connection whose exchange is complete; broken ones are closed."""
        reusable = (
            connection.complete
            and connection.keep_alive
            and connection.failure is None
            and connection.transport is not None
            and len(self._idle) < self.max_idle
        )
        if reusable:
            self._idle.append(connection)
        elif connection.transport is not None:
            connection.transport.abort()

    def discard(self, connection: UpstreamConnection) -> None:
        """Close a connection whose exchange was abandoned half-way; it never returns."""
        connection.keep_alive = False
        if connection.transport is not None:
            connection.transport.abort()

    def forget(self, connection: UpstreamConnection) -> None:
        self._open.discard(connection)
        if connection in self._idle:
            self._idle.remove(connection)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            now = time.monotonic()
            for connection in [c for c in self._open if c.deadline and c.deadline < now]:
                if not connection.complete:
                    connection.fail(
                        UpstreamTimeoutError(f"no complete answer within {self.timeout:g} s")
                    )

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for connection in list(self._open):
            if connection.transport is not None:
                connection.transport.close()
        self._idle.clear()
        self._open.clear()
