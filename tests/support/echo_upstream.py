"""A small HTTP/1.1 upstream that reports what reached it, for the gateway's forwarding tests.

It runs on the test's own event loop (httptools parses the requests) and serves:
`GET /openapi.json`; `GET|POST /api/echo` (answers with the headers and a digest of the body it
received); `GET /api/slow` (never answers); `GET /api/stream?size=N` (N bytes, chunked).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httptools
import orjson

OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "echo", "version": "1"},
    "paths": {
        "/api/echo": {"get": {"operationId": "echoGet"}, "post": {"operationId": "echoPost"}},
        "/api/slow": {"get": {"operationId": "slow"}},
        "/api/stream": {"get": {"operationId": "stream"}},
    },
}


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    chunked: bool = False


@dataclass
class LoopbackServer:
    """A test server on a free loopback port, serving each connection with `connection()`."""

    server: asyncio.base_events.Server | None = field(default=None, init=False)

    def connection(self) -> asyncio.Protocol:
        raise NotImplementedError

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self.connection, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()


@dataclass
class EchoUpstream(LoopbackServer):
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0

    def connection(self) -> asyncio.Protocol:
        return _Connection(self)


class _Connection(asyncio.Protocol):
    def __init__(self, upstream: EchoUpstream) -> None:
        self.upstream = upstream
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.upstream.connections += 1

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_begin(self) -> None:
        self.url, self.headers, self.body = b"", {}, []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode().lower()] = value.decode()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        url = urlsplit(self.url.decode())
        seen = Seen(
            method=self.parser.get_method().decode(),
            path=url.path,
            headers=self.headers,
            body=b"".join(self.body),
            chunked="chunked" in self.headers.get("transfer-encoding", ""),
        )
        self.upstream.seen.append(seen)
        if url.path == "/openapi.json":
            self._answer(200, orjson.dumps(OPENAPI))
        elif url.path == "/api/echo":
            report = {
                "headers": seen.headers,
                "length": len(seen.body),
                "sha256": hashlib.sha256(seen.body).hexdigest(),
                "chunked": seen.chunked,
            }
            self._answer(200, orjson.dumps(report), extra=b"x-upstream: echo\r\nkeep-alive: 5\r\n")
        elif url.path == "/api/stream":
            size = int(parse_qs(url.query).get("size", ["0"])[0])
            asyncio.get_running_loop().create_task(self._stream(size))
        elif url.path != "/api/slow":
            self._answer(404, b'{"status":404}')

    def _answer(self, status: int, body: bytes, extra: bytes = b"") -> None:
        assert self.transport is not None
        head = b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%b\r\n"
        self.transport.write(head % (status, len(body), extra) + body)

    async def _stream(self, size: int) -> None:
        assert self.transport is not None
        self.transport.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        block = bytes(range(256)) * 256
        sent = 0
        while sent < size:
            chunk = block[: min(len(block), size - sent)]
            self.transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            await asyncio.sleep(0)
        self.transport.write(b"0\r\n\r\n")
