"""One request and its answer: the RSGI scope and protocol the applications use, as one object.

The application is called as `app(request, request)`: the scope's attributes (method, path,
query_string, headers, client, …) and the protocol's methods (`response_bytes`,
`response_stream`, `await request()` for the whole body, `async for` over its pieces) live on
the same object, so a request costs one allocation, not two.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from email.utils import formatdate
from http import HTTPStatus
from typing import TYPE_CHECKING, ClassVar

import orjson

if TYPE_CHECKING:
    from termgate.http_server.connection import Connection

HeaderList = Sequence[tuple[str, str]]
STATUS_LINES = {
    status.value: f"HTTP/1.1 {status.value} {status.phrase}".encode() for status in HTTPStatus
}
NO_BODY_STATUSES = frozenset({204, 304})
_NOTED_NAME_LENGTHS = frozenset(
    len(name) for name in ("connection", "content-length", "transfer-encoding", "date")
)
# The clause each of the server's own refusals enforces: a request that does not follow the
# documented protocol (3.2; 400, 505), one that takes more than its share (3.3 f: 408, 413, 414,
# 431), the server's own fault (7).
SERVER_CLAUSES = {408: "3.3 f", 413: "3.3 f", 414: "3.3 f", 431: "3.3 f", 500: "7"}
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
LAST_CHUNK = b"0\r\n\r\n"


class ProtocolClosedError(Exception):
    """The client went away: the answer cannot be sent (any more)."""


class BodyTooLargeError(Exception):
    """A whole-body read went past the server's limit (answered 413)."""


class HeadersError(ValueError):
    """An application's response header holds a line break or is not latin-1 (answered 500)."""


class Headers:
    """The request's headers: names lower-cased, values as sent (latin-1), in their order."""

    __slots__ = ("_first", "_items")

    def __init__(self, items: list[tuple[str, str]], first: dict[str, str]) -> None:
        self._items = items
        self._first = first  # the first value of each name

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self._first.get(name)
        if value is None:
            if name.islower():
                return default
            return self._first.get(name.lower(), default)  # any casing, as granian's answer
        return value

    def get_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self._items if key == name]

    def items(self) -> list[tuple[str, str]]:
        return self._items

    def keys(self) -> list[str]:
        return list(self._first)

    def values(self) -> list[str]:
        return [value for _, value in self._items]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._first or name.lower() in self._first)


class _DateLine:
    """The `date` response header's line (without its line break), formatted once a second."""

    second = -1
    line = ""

    @classmethod
    def now(cls) -> str:
        second = int(time.time())
        if second != cls.second:
            cls.line = f"date: {formatdate(second, usegmt=True)}"
            cls.second = second
        return cls.line


class Request:
    """A request's scope, its body as it arrives, and its answer."""

    # The same for every request: class attributes, not set anew on each.
    proto: ClassVar[str] = "http"
    rsgi_version: ClassVar[str] = "1.5"
    authority: ClassVar[None] = None

    __slots__ = (
        "_body_waiter",
        "_buffered",
        "_chunks",
        "_complete",
        "_connection",
        "_continue",
        "_discarding",
        "_disconnected",
        "_lost",
        "_stream",
        "client",
        "close_after",
        "headers",
        "http_version",
        "method",
        "path",
        "query_string",
        "refusal",
        "responded",
        "scheme",
        "server",
    )

    def __init__(
        self,
        connection: Connection,
        method: str,
        path: str,
        query_string: str,
        headers: Headers,
        http_version: str,
        keep_alive: bool,
    ) -> None:
        self.scheme = connection.scheme
        self.client = connection.client
        self.server = connection.server_address
        self.method = method
        self.path = path
        self.query_string = query_string
        self.headers = headers
        self.http_version = http_version
        self.close_after = not keep_alive  # the connection ends with this answer
        self.responded = False
        self.refusal: tuple[int, str] | None = None  # the parser refused the rest of the body
        self._connection = connection
        self._chunks: deque[bytes] | None = None  # made by the first piece of a body
        self._buffered = 0
        self._complete = False
        self._lost = False
        self._discarding = False
        self._body_waiter: asyncio.Future[None] | None = None
        self._disconnected: asyncio.Future[None] | None = None
        self._stream: ResponseStream | None = None
        expect = headers._first.get("expect")
        self._continue = expect is not None and expect.lower() == "100-continue"

    # fed by the connection ------------------------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        if self._discarding:
            self._connection.discarded(len(chunk))
            return
        chunks = self._chunks
        if chunks is None:
            chunks = self._chunks = deque()
        chunks.append(chunk)
        self._buffered += len(chunk)
        if self._buffered > self._connection.limits.body_buffer:
            self._connection.pause_reading()
        self._wake()

    def finish(self) -> None:
        self._complete = True
        waiter = self._body_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def lost(self) -> None:
        self._lost = True
        self._wake()
        if self._disconnected is not None and not self._disconnected.done():
            self._disconnected.set_result(None)

    @property
    def body_complete(self) -> bool:
        return self._complete

    @property
    def buffered(self) -> int:
        return self._buffered

    def discard_body(self) -> None:
        """The answer is out before the body was read: what is left of it is read and dropped."""
        self._discarding = True
        self._chunks = None
        self._buffered = 0

    def _wake(self) -> None:
        waiter = self._body_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # the body, as the application reads it --------------------------------------------------

    async def __call__(self) -> bytes:
        """The whole body (at most the server's `max_body` bytes)."""
        limit = self._connection.limits.max_body
        pieces: list[bytes] = []
        size = 0
        async for chunk in self:
            size += len(chunk)
            if size > limit:
                raise BodyTooLargeError(f"the request body is larger than {limit} bytes")
            pieces.append(chunk)
        return b"".join(pieces)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[bytes]:
        while True:
            chunks = self._chunks
            if chunks:
                chunk = chunks.popleft()
                self._buffered -= len(chunk)
                self._connection.body_taken()
                yield chunk
                continue
            if self._complete:
                return
            if self._lost:
                # Never a short body passed off as whole (a client gone, or a malformed chunk).
                raise ProtocolClosedError("the request body ended before it was complete")
            if self._continue:
                self._continue = False
                if not self.responded:
                    self._connection.write(CONTINUE)
            self._body_waiter = asyncio.get_running_loop().create_future()
            await self._body_waiter
            self._body_waiter = None

    async def client_disconnect(self) -> None:
        if self._lost:
            return
        if self._disconnected is None or self._disconnected.done():  # a cancelled wait: anew
            self._disconnected = asyncio.get_running_loop().create_future()
        await self._disconnected

    # the answer -----------------------------------------------------------------------------

    def response_bytes(
        self, status: int, headers: HeaderList, body: bytes, relayed: Sequence[bytes] = ()
    ) -> None:
        """The whole answer; `relayed` are header lines sent as they are, before `headers`:
        a proxy's upstream's, each opening with its line break (b"\r\nname: value"), whose
        names are none the server writes itself (framing, `connection`, `date`) and whose names
        and values an HTTP parser has checked (no CR, LF or other control character)."""
        head = self._start(status, headers, len(body), chunked=False, relayed=relayed)
        transport = self._connection.transport
        if transport is None:
            return
        if self.method == "HEAD" or status in NO_BODY_STATUSES:
            transport.write(head)
        else:
            transport.write(head + body)

    def response_str(self, status: int, headers: HeaderList, body: str) -> None:
        self.response_bytes(status, headers, body.encode())

    def response_empty(self, status: int, headers: HeaderList) -> None:
        self.response_bytes(status, headers, b"")

    def response_stream(
        self, status: int, headers: HeaderList, relayed: Sequence[bytes] = ()
    ) -> ResponseStream:
        """A streamed answer; `relayed` as for `response_bytes`."""
        bodiless = self.method == "HEAD" or status in NO_BODY_STATUSES
        chunked = not bodiless and self.http_version == "1.1"
        if not bodiless and not chunked:
            self.close_after = True  # HTTP/1.0: the body ends with the connection
        head = self._start(status, headers, None, chunked=chunked, relayed=relayed)
        self._connection.write(head)
        self._stream = ResponseStream(self._connection, chunked=chunked, bodiless=bodiless)
        return self._stream

    def problem(self, status: int, detail: str) -> None:
        """The server's own refusal (RFC 9457), when the application has not answered; it names
        the clause of the terms it enforces, as the gateway's refusals do (docs/errors.md)."""
        phrase = HTTPStatus(status).phrase
        clause = SERVER_CLAUSES.get(status, "3.2")
        body = orjson.dumps(
            {
                "type": "about:blank",
                "title": phrase,
                "status": status,
                "detail": detail,
                "clause": clause,
            }
        )
        self.close_after = True
        self.response_bytes(status, [("content-type", "application/problem+json")], body)

    def cut(self) -> None:
        """The application failed mid-answer: no last chunk, the connection ends."""
        self.close_after = True
        if self._stream is not None:
            self._stream.broken = True

    def end(self) -> None:
        """After the application returned: close an open stream."""
        stream = self._stream
        if stream is not None:
            stream.end()
            if stream.broken:
                self.close_after = True

    def _start(
        self,
        status: int,
        headers: HeaderList,
        length: int | None,
        *,
        chunked: bool,
        relayed: Sequence[bytes] = (),
    ) -> bytes:
        if self.responded:
            raise RuntimeError("the response was already started")
        # The lines after the status line and any relayed ones, without their line breaks,
        # joined with them at the end.
        lines: list[str] = []
        has_date = False
        for name, value in headers:
            # Framing is the server's: content-length, transfer-encoding, connection; and a date
            # is added unless given. Only a name of one of their lengths is lowered and compared.
            if len(name) in _NOTED_NAME_LENGTHS:
                lowered = name.lower()
                if lowered == "connection":
                    if "close" in value.lower():
                        self.close_after = True
                    continue
                if lowered == "content-length":
                    if self.method == "HEAD":  # the length a GET would have had
                        lines.append(f"content-length: {value}")
                        length = None
                    continue
                if lowered == "transfer-encoding":
                    continue
                if lowered == "date":
                    has_date = True
            lines.append(f"{name}: {value}")
        if not has_date:
            lines.append(_DateLine.now())
        if chunked:
            lines.append("transfer-encoding: chunked")
        elif (
            length is not None
            and status not in NO_BODY_STATUSES
            and (length or self.method != "HEAD")
        ):
            lines.append(f"content-length: {length}")
        connection = self._connection
        if connection.stopping or (self._continue and not self._complete):
            # 100-continue unsent: the client may never send the body, and what it sends next
            # could not be told apart from it.
            self.close_after = True
        if self.close_after:
            lines.append("connection: close")
        elif self.http_version == "1.0":
            lines.append("connection: keep-alive")
        # No CR or LF inside a line: one in a name or value would split the answer. (Looked for
        # in the lines joined without breaks: `in` is a memchr, counting them is a slower loop.)
        joined = "".join(lines)
        if "\n" in joined or "\r" in joined:
            raise HeadersError("a response header holds a line break")
        lines.append("\r\n")  # the blank line ending the head, after the last line's break
        try:
            encoded = "\r\n".join(lines).encode("latin-1")
        except UnicodeEncodeError:
            raise HeadersError("a response header is not latin-1") from None
        # Started only once the head is sound: a refused head is answered 500 instead.
        self.responded = True
        if not self._complete and not self._lost:
            self.discard_body()
        status_line = STATUS_LINES.get(status) or b"HTTP/1.1 %d " % status
        return b"".join((status_line, *relayed, b"\r\n", encoded))


class ResponseStream:
    """A streamed answer: chunked on HTTP/1.1, delimited by the connection's close on 1.0."""

    __slots__ = ("_bodiless", "_chunked", "_connection", "broken", "ended")

    def __init__(self, connection: Connection, *, chunked: bool, bodiless: bool) -> None:
        self._connection = connection
        self._chunked = chunked
        self._bodiless = bodiless
        self.ended = False
        self.broken = False

    async def send_bytes(self, data: bytes) -> None:
        connection = self._connection
        if connection.transport is None:
            self.broken = True
            raise ProtocolClosedError("the client closed the connection")
        if not data or self._bodiless:
            return
        if self._chunked:
            connection.write(b"%x\r\n%b\r\n" % (len(data), data))
        else:
            connection.write(data)
        await connection.drain()

    async def send_str(self, data: str) -> None:
        await self.send_bytes(data.encode())

    def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        if self._chunked and not self.broken and self._connection.transport is not None:
            self._connection.write(LAST_CHUNK)
