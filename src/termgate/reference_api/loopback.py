"""Run the API in this process on a free loopback port, for tests: a thread with its own event
loop serves HTTP/1.1 (keep-alive, parsed by httptools) to the same ASGI app `serve` runs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httptools

from termgate.reference_api.app import PublishedApp

Message = MutableMapping[str, Any]


@dataclass
class _Exchange:
    method: str = ""
    url: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: list[bytes] = field(default_factory=list)


class _Connection(asyncio.Protocol):
    def __init__(self, app: PublishedApp) -> None:
        self.app = app
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.current = _Exchange()
        self.queue: asyncio.Queue[_Exchange | None] = asyncio.Queue()
        self.worker = asyncio.get_running_loop().create_task(self._serve())

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.queue.put_nowait(None)

    # httptools callbacks
    def on_url(self, url: bytes) -> None:
        self.current.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.current.headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self.current.body.append(body)

    def on_message_complete(self) -> None:
        self.current.method = self.parser.get_method().decode()
        self.queue.put_nowait(self.current)
        self.current = _Exchange()

    async def _serve(self) -> None:
        while (exchange := await self.queue.get()) is not None:
            await self._one(exchange)

    async def _one(self, exchange: _Exchange) -> None:
        parsed = httptools.parse_url(exchange.url)
        scope = {"type": "http", "method": exchange.method, "headers": exchange.headers,
                 "path": _unquote(parsed.path), "query_string": parsed.query or b""}  # fmt: skip
        body = b"".join(exchange.body)
        start: Message = {}
        chunks: list[bytes] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        head = [f"HTTP/1.1 {start['status']} -\r\n".encode()]
        head += [name + b": " + value + b"\r\n" for name, value in start["headers"]]
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(head) + b"\r\n" + b"".join(chunks))


def _unquote(path: bytes) -> str:
    return unquote(path.decode("latin-1"))


class LoopbackServer:
    """`with LoopbackServer(app) as server: httpx.get(server.url + "/api/debtors")`."""

    def __init__(self, app: PublishedApp) -> None:
        self.app = app
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reference-api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            self._loop.create_server(lambda: _Connection(self.app), "127.0.0.1", 0)
        )
        self.port = int(server.sockets[0].getsockname()[1])
        self._ready.set()
        self._loop.run_forever()
        server.close()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def start(self) -> LoopbackServer:
        self._thread.start()
        self._ready.wait(30)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
