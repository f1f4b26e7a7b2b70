"""Serve an ASGI application (the control plane) from an RSGI server.

The gateway speaks RSGI natively for speed; the console, portal and admin API are ordinary
Starlette applications. This adapter turns one RSGI HTTP request into ASGI `receive`/`send`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from termgate.http_server.request import ProtocolClosedError

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[Message]],
        Callable[[Message], Awaitable[None]],
    ],
    Awaitable[None],
]


def _asgi_scope(scope: Any) -> dict[str, Any]:
    host, _, port = str(scope.client).rpartition(":")
    server = str(scope.server)
    server_host, _, server_port = server.rpartition(":")
    path: str = scope.path
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": scope.http_version,
        "method": scope.method,
        "scheme": scope.scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": scope.query_string.encode("latin-1"),
        "root_path": "",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in scope.headers.items()],
        "client": (host, int(port or 0)),
        "server": (server_host, int(server_port or 0)),
    }


class _Response:
    """Collects the ASGI response; sends it whole when it fits in one message, else streams."""

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.stream: Any = None
        self.done = False

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = int(message["status"])
            self.headers = [
                (bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
                for k, v in message.get("headers", ())
            ]
        elif kind == "http.response.body":
            body = bytes(message.get("body", b""))
            more = bool(message.get("more_body", False))
            if self.stream is None and not more:
                self.protocol.response_bytes(self.status, self.headers, body)
                self.done = True
                return
            if self.stream is None:
                self.stream = self.protocol.response_stream(self.status, self.headers)
            if body:
                await self.stream.send_bytes(body)
            self.done = not more


class ASGIBridge:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Any, protocol: Any) -> None:
        body_read = False

        async def receive() -> Message:
            nonlocal body_read
            if body_read:
                await protocol.client_disconnect()
                return {"type": "http.disconnect"}
            body_read = True
            try:
                body = await protocol()
            except ProtocolClosedError:
                return {"type": "http.disconnect"}  # the client went away mid-body
            return {"type": "http.request", "body": body, "more_body": False}

        response = _Response(protocol)
        await self.app(_asgi_scope(scope), receive, response.send)
        if not response.done and response.stream is None:
            response.protocol.response_empty(response.status, response.headers)
