"""The RSGI applications the server's tests run: an echo of the scope, and answers chosen by the
`x-act` request header (streams, failures, early answers) to drive each behaviour."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import orjson

JSON = [("content-type", "application/json")]
# Header lines relayed as bytes (termgate's server only): how the gateway passes on the upstream's.
RELAYED = (b"\r\nX-Upstream: one", b"\r\nContent-Type: text/plain; charset=\xe9")


def scope_of(scope: Any) -> dict[str, Any]:
    """What the gateway reads of a request, as both servers give it."""
    headers = scope.headers
    names = sorted({name for name, _ in headers.items()})
    return {
        "method": scope.method,
        "path": scope.path,
        "query_string": scope.query_string,
        "http_version": scope.http_version,
        "scheme": scope.scheme,
        "client": scope.client,
        "items": [list(item) for item in headers.items()],
        "get": {name: headers.get(name) for name in names},
        "get_all": {name: headers.get_all(name) for name in names},
        "probe": {name: headers.get(name) for name in ("x-a", "X-A", "x-b", "x-obs")},
    }


class App:
    """Counts its calls (the tests ask whether the application was reached at all)."""

    def __init__(self, marker: str | None = None) -> None:
        self.calls = 0
        self.marker = marker  # a file `__rsgi_del__` writes at the stop
        self.events: list[str] = []

    def __rsgi_del__(self, _loop: Any) -> None:
        if self.marker:
            Path(self.marker).write_text("deleted")

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        self.calls += 1
        act = scope.headers.get("x-act") or "echo"
        handler = getattr(self, "act_" + act.replace("-", "_"))
        await handler(scope, protocol)

    async def act_echo(self, scope: Any, protocol: Any) -> None:
        protocol.response_bytes(200, JSON, orjson.dumps(scope_of(scope)))

    async def act_calls(self, _scope: Any, protocol: Any) -> None:
        protocol.response_str(200, [], str(self.calls))

    async def act_pid(self, _scope: Any, protocol: Any) -> None:
        protocol.response_str(200, [], str(os.getpid()))

    async def act_body(self, _scope: Any, protocol: Any) -> None:
        body = await protocol()
        protocol.response_bytes(200, [], b"%d:%b" % (len(body), body[:64]))

    async def act_body_then_echo(self, scope: Any, protocol: Any) -> None:
        await protocol()
        protocol.response_bytes(200, JSON, orjson.dumps(scope_of(scope)))

    async def act_keys(self, scope: Any, protocol: Any) -> None:
        protocol.response_bytes(200, JSON, orjson.dumps(list(scope.headers.keys())))

    async def act_early(self, scope: Any, protocol: Any) -> None:
        protocol.response_str(200, [], "early " + scope.path)

    async def act_status(self, scope: Any, protocol: Any) -> None:
        status = int(scope.query_string)
        protocol.response_bytes(status, [("content-length", "5")], b"hello")

    async def act_stream(self, scope: Any, protocol: Any) -> None:
        stream = protocol.response_stream(200, [("content-type", "text/plain")])
        for piece in (b"one,", b"two,", b"three"):
            await stream.send_bytes(piece)

    async def act_relayed(self, _scope: Any, protocol: Any) -> None:
        """A proxy's answer: the upstream's lines as bytes, then the proxy's own header."""
        protocol.response_bytes(200, [("x-request-id", "r-1")], b"relayed", RELAYED)

    async def act_relayed_stream(self, _scope: Any, protocol: Any) -> None:
        stream = protocol.response_stream(200, [("x-request-id", "r-1")], RELAYED)
        await stream.send_bytes(b"relayed")

    async def act_fail_before(self, _scope: Any, _protocol: Any) -> None:
        raise RuntimeError("boom before the answer")

    async def act_fail_mid(self, _scope: Any, protocol: Any) -> None:
        stream = protocol.response_stream(200, [])
        await stream.send_bytes(b"partial")
        raise RuntimeError("boom mid-stream")

    async def act_silent(self, _scope: Any, _protocol: Any) -> None:
        return None

    async def act_split(self, _scope: Any, protocol: Any) -> None:
        protocol.response_str(200, [("x-evil", "a\r\nset-cookie: stolen=1")], "split")

    async def act_date(self, _scope: Any, protocol: Any) -> None:
        protocol.response_str(200, [("Date", "Tue, 01 Jan 2030 00:00:00 GMT")], "dated")

    async def act_sleep(self, scope: Any, protocol: Any) -> None:
        await asyncio.sleep(float(scope.query_string or "1"))
        protocol.response_str(200, [], "slept")

    async def act_endless(self, _scope: Any, protocol: Any) -> None:
        """Streams until the client goes; records how the stream ended."""
        stream = protocol.response_stream(200, [])
        try:
            while True:
                await stream.send_bytes(b"x" * 65536)
                await asyncio.sleep(0)
        except Exception as error:
            self.events.append(type(error).__name__)
            raise

    async def act_wait_disconnect(self, _scope: Any, protocol: Any) -> None:
        await protocol.client_disconnect()
        self.events.append("disconnected")

    async def act_events(self, _scope: Any, protocol: Any) -> None:
        protocol.response_bytes(200, JSON, orjson.dumps(self.events))


def create_app() -> App:
    return App(os.environ.get("TERMGATE_TEST_DEL_MARKER"))


app = App()
