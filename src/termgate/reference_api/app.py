"""The reference payroll API as a raw ASGI 3 application: no framework on the request path."""

from __future__ import annotations

import itertools
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from termgate.reference_api.data import DEFAULT_EMPLOYEES, DEFAULT_SEED, PayrollData, generate
from termgate.reference_api.http import (
    DEBTORS_HEADER,
    JSON_CONTENT_TYPE,
    REQUEST_ID_HEADER,
    USER_HEADER,
    ProblemError,
    Request,
    Response,
    StreamResponse,
)
from termgate.reference_api.openapi import build_openapi
from termgate.reference_api.refusals import (
    BODY_TOO_LARGE,
    METHOD_NOT_ALLOWED,
    SERVER_ERROR,
    UNKNOWN_ROUTE,
)
from termgate.reference_api.router import Router
from termgate.reference_api.routes import ROUTES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

OPENAPI_PATH = "/openapi.json"
MAX_BODY = 1 << 20
_DEBTORS = DEBTORS_HEADER.encode()
_USER = USER_HEADER.encode()
_REQUEST_ID = REQUEST_ID_HEADER.encode()
_CONTENT_TYPE = b"content-type"


class UpstreamApp:
    """ASGI application serving one `PayrollData`."""

    def __init__(self, data: PayrollData) -> None:
        self.data = data
        self.router = Router(ROUTES)
        self.openapi = orjson.dumps(build_openapi())
        self._ids = itertools.count(1)
        self._id_prefix = f"up-{os.getpid():x}-"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await _lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = self._request(scope)
        try:
            answer = await self._answer(request, receive)
        except ProblemError as problem:
            answer = problem.response(request.path)
        except Exception:
            answer = ProblemError(SERVER_ERROR, "The payroll API failed").response(request.path)
        request_id = request.request_id or f"{self._id_prefix}{next(self._ids)}"
        await _send(send, answer, request_id.encode())

    def _request(self, scope: Scope) -> Request:
        request = Request(scope["method"], scope["path"], scope["query_string"], ())
        for name, value in scope["headers"]:
            if name == _REQUEST_ID:
                request.request_id = value.decode("latin-1")
            elif name == _DEBTORS:
                request.debtors = _debtor_ids(value)
            elif name == _USER:
                request.user_id = value.decode("latin-1").strip()
            elif name == _CONTENT_TYPE:
                request.content_type = value.decode("latin-1")
        return request

    async def _answer(self, request: Request, receive: Receive) -> Response | StreamResponse:
        if request.path == OPENAPI_PATH and request.method == "GET":
            return Response(200, self.openapi, JSON_CONTENT_TYPE)
        match = self.router.match(request.method, request.path)
        if match is None:
            raise ProblemError(UNKNOWN_ROUTE, f"No resource at {request.path}")
        if match.route is None:
            detail = f"{request.method} is not allowed on {request.path}"
            raise ProblemError(METHOD_NOT_ALLOWED, detail, headers=[(b"allow", match.allow)])
        request.params = match.params
        if request.method in ("PUT", "POST", "PATCH"):
            request.body = await _read_body(receive)
        return match.route.handler(self.data, request)


def _debtor_ids(value: bytes) -> frozenset[int]:
    return frozenset(int(part) for part in value.split(b",") if part.strip().isdigit())


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise ProblemError(BODY_TOO_LARGE, f"The body exceeds {MAX_BODY} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send: Send, answer: Response | StreamResponse, request_id: bytes) -> None:
    headers = [(b"content-type", answer.content_type.encode()), (b"x-request-id", request_id)]
    headers.extend(answer.headers)
    if isinstance(answer, Response):
        headers.append((b"content-length", str(len(answer.body)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})
        return
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    for chunk in answer.chunks:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(seed: int = DEFAULT_SEED, employees: int = DEFAULT_EMPLOYEES) -> UpstreamApp:
    """The payroll API over freshly generated data for `seed` (same seed, same data)."""
    return UpstreamApp(generate(seed, employees))
