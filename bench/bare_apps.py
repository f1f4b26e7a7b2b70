"""The bare proxies of `bench/bare_proxies.py`: the bench's request forwarded with nothing else.

    python bench/bare_apps.py granian|termgate|callbacks PORT UPSTREAM_PORT

`granian` and `termgate` serve the same RSGI application, which forwards each request over the
gateway's own pooled client (`termgate.upstream_client`) with no policy step and no usage event:
what the server costs, next to the other server. `callbacks` is the floor of a Python proxy on
this loop and parser: llhttp callbacks on uvloop, no task, no future, no RSGI.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import httptools
import uvloop

from termgate.upstream_client.pool import UpstreamPool

FRAMING = (b"connection", b"content-length", b"transfer-encoding", b"keep-alive")


class BareProxy:
    """RSGI: the request to the upstream as it came (but its host), the answer back whole."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.pool: UpstreamPool | None = None

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if self.pool is None:
            self.pool = UpstreamPool(
                "127.0.0.1", self.upstream, max_idle=64, connect_timeout=5, timeout=30
            )
        query = scope.query_string
        lines = [
            f"{scope.method} {scope.path}{'?' + query if query else ''} HTTP/1.1\r\n"
            f"host: 127.0.0.1:{self.upstream}\r\n"
        ]
        lines += [
            f"{n}: {v}\r\n" for n, v in scope.headers.items() if n not in ("host", "connection")
        ]
        lines.append("\r\n")
        connection = await self.pool.acquire()
        connection.start("".join(lines).encode("latin-1"), is_head=False, timeout=30)
        await connection.response_ready()
        body = connection.take_body() if connection.body else b""
        self.pool.release(connection)
        protocol.response_bytes(connection.status, connection.headers, body)


def bare_proxy() -> BareProxy:
    return BareProxy(int(sys.argv[3]))


class _Upstream(asyncio.Protocol):
    def __init__(self, idle: list[_Upstream]) -> None:
        self.idle = idle
        self.parser = httptools.HttpResponseParser(self)
        self.client: _Client | None = None
        self.headers: list[bytes] = []
        self.body: list[bytes] = []

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() not in FRAMING:
            self.headers.append(b"%s: %s\r\n" % (name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        body = b"".join(self.body)
        head = b"HTTP/1.1 %d OK\r\n%bcontent-length: %d\r\n\r\n" % (
            self.parser.get_status_code(),
            b"".join(self.headers),
            len(body),
        )
        client, self.client, self.headers, self.body = self.client, None, [], []
        self.idle.append(self)
        if client is not None:
            client.transport.write(head + body)


class _Client(asyncio.Protocol):
    def __init__(self, idle: list[_Upstream], upstream: int) -> None:
        self.idle = idle
        self.upstream = upstream
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.headers: list[bytes] = []

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() not in (b"host", b"connection"):
            self.headers.append(b"%s: %s\r\n" % (name, value))

    def on_message_complete(self) -> None:
        head = b"GET %s HTTP/1.1\r\nhost: 127.0.0.1:%d\r\n%b\r\n" % (
            self.url,
            self.upstream,
            b"".join(self.headers),
        )
        self.url, self.headers = b"", []
        if self.idle:
            upstream = self.idle.pop()
            upstream.client = self
            upstream.transport.write(head)
        else:
            asyncio.get_running_loop().create_task(self._connect(head))

    async def _connect(self, head: bytes) -> None:
        loop = asyncio.get_running_loop()
        _, upstream = await loop.create_connection(
            lambda: _Upstream(self.idle), "127.0.0.1", self.upstream
        )
        upstream.client = self
        upstream.transport.write(head)


async def callbacks(port: int, upstream: int) -> None:
    idle: list[_Upstream] = []
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Client(idle, upstream), "127.0.0.1", port)
    await server.serve_forever()


def main() -> None:
    kind, port, upstream = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if kind == "callbacks":
        uvloop.run(callbacks(port, upstream))
    elif kind == "termgate":
        from termgate.http_server import run

        run("bare_apps:bare_proxy", host="127.0.0.1", port=port)
    else:
        from granian import Granian
        from granian.constants import Interfaces, Loops

        Granian(
            "bare_apps:bare_proxy",
            factory=True,
            address="127.0.0.1",
            port=port,
            interface=Interfaces.RSGI,
            workers=1,
            loop=Loops.uvloop,
            log_level="warning",  # type: ignore[arg-type]
            backlog=2048,
        ).serve()


if __name__ == "__main__":
    main()
