"""The bench's upstream: the published-contract reference API with a request counter in front.

    python bench/counted_upstream.py --port N --employees 2000 --seed N

Serves `termgate.reference_api`'s app as `python -m termgate.reference_api` does (granian ASGI,
uvloop, HTTP/1, one worker, no access log), wrapped in a counter: requests for the watched request
(path and query exactly, set with `POST /_bench/watch`, whose body is the path) are counted apart
from every other request, which is counted by path. `GET /_bench/requests` answers both as JSON.
Neither route is counted or reaches the API. The bench reads the counts before and after its
measured rounds: every other request in between is an upstream call a gateway made on its own,
such as a tenant listing. The counter costs a string comparison and an integer addition per
request, for every target alike.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from granian.constants import HTTPModes, Interfaces, Loops
from granian.server import Server

from termgate.reference_api.defaults import DEFAULT_EMPLOYEES, DEFAULT_SEED

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

COUNTS_ROUTE = "/_bench/requests"
WATCH_ROUTE = "/_bench/watch"


class Counted:
    """An ASGI app in front of `app` counting its HTTP requests: the watched one, and the rest
    by path."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.path, self.query = "", b""
        self.watched = 0
        self.others: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path == self.path and scope["query_string"] == self.query:
                self.watched += 1
            elif path == COUNTS_ROUTE:
                await self._counts(send)
                return
            elif path == WATCH_ROUTE and scope["method"] == "POST":
                await self._watch(receive)
                await self._counts(send)
                return
            else:
                self.others[path] += 1
        await self.app(scope, receive, send)

    async def _watch(self, receive: Receive) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path, _, query = body.decode().partition("?")
        self.path, self.query = path, query.encode()
        self.watched = 0

    async def _counts(self, send: Send) -> None:
        body = json.dumps({"watched": self.watched, "others": dict(self.others)}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def worker_app() -> Counted:
    """Factory granian calls in the worker, as `termgate.reference_api.server.worker_app`."""
    from termgate.reference_api.server import worker_app as published_app

    return Counted(published_app())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--employees", type=int, default=DEFAULT_EMPLOYEES)
    args = parser.parse_args()
    os.environ["TERMGATE_SEED"] = str(args.seed)  # read by the published API's worker
    os.environ["TERMGATE_EMPLOYEES"] = str(args.employees)
    Server(
        "counted_upstream:worker_app",
        address="127.0.0.1",
        port=args.port,
        interface=Interfaces.ASGI,
        workers=1,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        factory=True,
        log_access=False,
    ).serve()


if __name__ == "__main__":
    main()
