"""One client connection: llhttp parses, the application answers, one request at a time.

Requests a client pipelines wait in order behind the one being answered (their bodies buffered,
reading paused past a bound). A request head must arrive within `head_timeout`, an idle
keep-alive connection ends after `keepalive_timeout`; both are checked by the server's sweeper,
not by a timer per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote_to_bytes

import httptools

from termgate.http_server.request import (
    BodyTooLargeError,
    Headers,
    HeadersError,
    ProtocolClosedError,
    Request,
)
from termgate.http_server.stepped import Stepped

if TYPE_CHECKING:
    from termgate.http_server.serve import Server

log = logging.getLogger("termgate.http")
DISCARD_LIMIT = 1 << 20  # bytes of an unread body read and dropped before closing instead
PERCENT, HASH = ord("%"), ord("#")
# Header names as sent, to their decoded lower-case str: a look-up instead of two conversions.
HEADER_NAMES: dict[bytes, str] = {}
HEADER_NAMES_KEPT = 512
HEADER_NAME_KEPT_SIZE = 64
# The usual methods as the str the request carries, not decoded anew for each request.
METHODS = {
    method.encode(): method
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
}


class RefusedError(Exception):
    """A request head the server will not serve: past a limit (414, 431), an HTTP version other
    than 1.0 and 1.1 (400, 505), Host missing or repeated, a transfer coding other than chunked
    last, a target that is no URL (400)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def lowered_name(name: bytes) -> str:
    """A header name as a str in lower case; kept for the next request while the names kept are
    few and short (a client inventing names fills no more than HEADER_NAMES_KEPT of them)."""
    lowered = name.decode("latin-1").lower()
    if len(HEADER_NAMES) < HEADER_NAMES_KEPT and len(name) <= HEADER_NAME_KEPT_SIZE:
        HEADER_NAMES[name] = lowered
    return lowered


def decoded_path(raw: bytes) -> str:
    """The path percent-decoded, then UTF-8 with replacement (as the upstream decodes it)."""
    if b"%" not in raw:
        return raw.decode("ascii")  # llhttp admits only visible ASCII in a request target
    return unquote_to_bytes(raw).decode("utf-8", "replace")


def split_target(target: bytes) -> tuple[str, str]:
    """Path and query of an origin-form, absolute-form or asterisk-form request target."""
    if b"#" in target:
        target = target.partition(b"#")[0]  # a fragment is not the server's: dropped, as granian
    if not target.startswith(b"/"):
        if target == b"*":
            return "*", ""
        try:
            url = httptools.parse_url(target)
        except httptools.HttpParserInvalidURLError:
            raise RefusedError(400, "The request target is not a URL the server serves.") from None
        path, query = url.path or b"/", url.query or b""
        return decoded_path(path), query.decode("latin-1")
    path, _, query = target.partition(b"?")
    return decoded_path(path), query.decode("latin-1")


class Connection(asyncio.Protocol):
    def __init__(self, server: Server) -> None:
        self.server = server
        self.limits = server.limits
        self.scheme = server.scheme
        self.transport: asyncio.Transport | None = None
        self.client = ""
        self.server_address = ""
        self.deadline = 0.0  # when the sweeper ends the connection (0: a request is answered)
        self.in_head = False  # a request head is arriving
        self.stopping = False  # the server is stopping: end after the answer in hand
        self._parser = httptools.HttpRequestParser(self)
        self._queue: deque[Request] = deque()  # the first is being answered
        self._parsing: Request | None = None
        self._url = b""
        self._items: list[tuple[str, str]] = []
        self._head_size = 0
        self._max_head = server.limits.max_head
        self._max_headers = server.limits.max_headers
        self._max_pipelined = server.limits.max_pipelined
        self._max_url = server.limits.max_url
        self._head_timeout = server.limits.head_timeout
        # httptools joins the pieces of one header line until the line ends: the head's bytes
        # are also counted as they arrive, so one endless line is refused after a read or two,
        # not buffered whole. Above what the limits below allow (separators and padding included).
        self._max_raw_head = (
            server.limits.max_head + server.limits.max_url + 4 * server.limits.max_headers + 1024
        )
        self._raw_head = 0  # bytes of the current head in the reads after the one it began in
        self._began = False  # a message began during the current read
        self._keepalive_timeout = server.limits.keepalive_timeout
        self._app = server.app
        self._loop = asyncio.get_running_loop()  # made by the server's loop, on it
        self._paused = False
        self._upgraded = False
        self._discarded = 0
        self._drained: asyncio.Future[None] | None = None

    # asyncio.Protocol ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.client = _address(transport.get_extra_info("peername"))
        self.server_address = _address(transport.get_extra_info("sockname"))
        self.deadline = time.monotonic() + self.limits.head_timeout
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.server.forget(self)
        for request in self._queue:
            request.lost()
        if self._parsing is not None and self._parsing not in self._queue:
            self._parsing.lost()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self._upgraded:
            return  # after an Upgrade request nothing more is parsed; the answer ends it
        self._began = False
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._upgraded = True  # answered as a plain request, then the connection ends
            if self._queue:
                self._queue[-1].close_after = True
        except httptools.HttpParserCallbackError as error:
            cause = error.__context__
            if isinstance(cause, RefusedError):
                self._refuse(cause.status, str(cause))
            else:
                log.error("request parsing failed", exc_info=cause)
                self._refuse(400, "The request could not be read.")
        except httptools.HttpParserError as error:
            self._refuse(400, f"Malformed HTTP/1.1 request: {error}.")
        else:
            if self.in_head and not self._began:  # the whole read was this head's
                self._raw_head += len(data)
                if self._raw_head > self._max_raw_head:
                    self._refuse(
                        431, f"The request head is larger than {self._max_raw_head} bytes."
                    )

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    # llhttp callbacks ---------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._items = []
        self._head_size = 0
        self._raw_head = 0
        self._began = True
        self.in_head = True
        if not self._queue:
            self.deadline = time.monotonic() + self._head_timeout

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > self._max_url:
            raise RefusedError(
                414, f"The request target is longer than {self.limits.max_url} bytes."
            )

    def on_header(self, name: bytes, value: bytes) -> None:
        # Called once per header line, bounded before it is kept. Decoded here: every header is
        # forwarded, and a list of pairs decoded in this call costs less than a second pass.
        # llhttp drops the whitespace before a value, not after it (RFC 9110 5.5: neither is part
        # of the value; granian and the upstream drop both).
        items = self._items
        size = self._head_size + len(name) + len(value)
        if size > self._max_head or len(items) >= self._max_headers:
            limits = self.limits
            raise RefusedError(
                431,
                f"The request headers are larger than {limits.max_head} bytes "
                f"or more than {limits.max_headers}.",
            )
        self._head_size = size
        lowered = HEADER_NAMES.get(name) or lowered_name(name)
        items.append((lowered, value.rstrip(b" \t").decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.in_head = False
        parser = self._parser
        version = parser.get_http_version()
        items = self._items
        # A chunked body's trailers come through on_header too: into a copy, never into this
        # request's headers, still counted against the head's limits as the headers before them.
        self._items = items.copy()
        first = dict(items)
        if len(first) != len(items):  # a name repeated: its first value wins
            first = {}
            for name, value in items:
                first.setdefault(name, value)
        if (
            version != "1.1"
            or len(first) != len(items)  # a name repeated: perhaps Host
            or "host" not in first
            or "transfer-encoding" in first
        ):
            check_head(version, first, items)
        target = self._url
        raw_path, _, raw_query = target.partition(b"?")
        # The usual target, /path?query with nothing to decode: split_target's answer, inline.
        # (A byte looked for as an int: `b"%" in` costs ten times as much.)
        if raw_path[:1] == b"/" and PERCENT not in raw_path and HASH not in target:
            path, query = raw_path.decode("ascii"), raw_query.decode("latin-1")
        else:
            path, query = split_target(target)
        method = parser.get_method()
        request = Request(
            self,
            METHODS.get(method) or method.decode("ascii"),
            path,
            query,
            Headers(items, first),
            version,
            parser.should_keep_alive(),
        )
        self._parsing = request
        queue = self._queue
        queue.append(request)
        if len(queue) == 1:
            self._start(request)
        elif len(queue) > self._max_pipelined:
            self.pause_reading()

    def on_body(self, body: bytes) -> None:
        if self._parsing is not None:
            self._parsing.feed(body)

    def on_message_complete(self) -> None:
        if self._parsing is not None:
            self._parsing.finish()
            self._parsing = None

    # answering ----------------------------------------------------------------------------------

    def _start(self, request: Request) -> None:
        self.deadline = 0.0  # the application's own timeouts apply while it answers
        # Stepped, not a Task (stepped.py); started on the loop's next turn, as a Task would be.
        self._loop.call_soon(Stepped(self._answer(request)).step)

    async def _answer(self, request: Request) -> None:
        try:
            await self._app(request, request)
        except BodyTooLargeError as error:
            self._fail(request, 413, str(error))
        except ProtocolClosedError:
            # The body was cut short: by the client leaving (nothing to answer) or by framing the
            # parser refused (answered with that refusal, never with a truncated body served).
            if request.refusal is not None:
                self._fail(request, *request.refusal)
            request.close_after = True
        except HeadersError as error:
            log.error("%s %s: %s", request.method, request.path, error)
            self._fail(request, 500, "The server could not answer this request.")
        except Exception:
            log.exception("the application failed on %s %s", request.method, request.path)
            self._fail(request, 500, "The server could not answer this request.")
        else:
            if not request.responded:
                log.error("the application did not answer %s %s", request.method, request.path)
                self._fail(request, 500, "The server could not answer this request.")
        finally:
            self._answered(request)

    def _fail(self, request: Request, status: int, detail: str) -> None:
        if request.responded:
            request.cut()  # a streamed answer cut short: the client sees the cut
        else:
            request.problem(status, detail)

    def _answered(self, request: Request) -> None:
        request.end()
        queue = self._queue
        queue.popleft()
        transport = self.transport
        if transport is None:
            return
        if request.close_after or self.stopping:
            transport.close()
            return
        if queue:
            self._start(queue[0])
        else:
            self._discarded = 0  # any rest of its body is read and dropped as it comes
            # A head begun while this answer was made has head_timeout from now, not keep-alive.
            wait = self._head_timeout if self.in_head else self._keepalive_timeout
            self.deadline = time.monotonic() + wait
        if self._paused:
            self.body_taken()

    def _refuse(self, status: int, detail: str) -> None:
        """A request the parser rejected: the server answers it, then the connection ends."""
        self._upgraded = True  # stop parsing: the stream is not trustworthy past this point
        transport = self.transport
        if transport is None:
            return
        if self._queue:
            self._queue[-1].close_after = True  # answer what came before, then close
            if self._parsing is not None and self._parsing in self._queue:
                self._parsing.refusal = (status, detail)
                self._parsing.lost()
            return
        request = Request(self, "GET", "/", "", Headers([], {}), "1.1", False)
        request.problem(status, detail)
        transport.close()

    # used by requests ---------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        transport = self.transport
        if transport is not None:
            transport.write(data)

    async def drain(self) -> None:
        if self._drained is not None:
            await self._drained

    def pause_reading(self) -> None:
        if not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def body_taken(self) -> None:
        """A request's body was read: read on when nothing waiting is over its bound."""
        if not self._paused or self.transport is None:
            return
        if len(self._queue) > self.limits.max_pipelined:
            return
        if any(request.buffered > self.limits.body_buffer for request in self._queue):
            return
        self._paused = False
        self.transport.resume_reading()

    def discarded(self, size: int) -> None:
        self._discarded += size
        if self._discarded > DISCARD_LIMIT and self.transport is not None:
            self.transport.close()

    # the sweeper --------------------------------------------------------------------------------

    def expire(self) -> None:
        """Past the deadline: a head still arriving is answered 408; an idle connection ends."""
        transport = self.transport
        if transport is None:
            return
        if self.in_head:
            self._refuse(
                408, f"The request head did not arrive within {self.limits.head_timeout:g} s."
            )
        else:
            transport.close()

    def stop(self) -> None:
        """The server stops: an idle connection ends now, a busy one after its answer."""
        self.stopping = True
        if not self._queue and self.transport is not None:
            self.transport.close()


def check_head(version: str, first: dict[str, str], items: list[tuple[str, str]]) -> None:
    """Refuse what llhttp reads but the server must not serve (RFC 9112 2.3, 3.2, 6.1, 6.3)."""
    if version not in ("1.1", "1.0"):
        if version == "0.9":
            raise RefusedError(400, "HTTP/0.9 requests are not served.")
        raise RefusedError(505, f"HTTP/{version} is not served on HTTP/1.1.")
    if version == "1.1" and "host" not in first:
        raise RefusedError(400, "An HTTP/1.1 request has a Host header (RFC 9112 3.2).")
    if sum(name == "host" for name, _ in items) > 1:
        raise RefusedError(400, "A request has one Host header (RFC 9112 3.2).")
    if "transfer-encoding" in first:
        if version == "1.0":
            raise RefusedError(400, "An HTTP/1.0 request cannot be sent chunked.")
        for name, value in items:
            if name == "transfer-encoding" and not _ends_chunked(value):
                raise RefusedError(400, "A request's transfer coding must end with chunked.")


def _ends_chunked(value: str) -> bool:
    return value.rpartition(",")[2].strip().lower() == "chunked"


def _address(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address or "")
