"""The reference API of the published contract as a raw ASGI 3 application (no framework on the
request path): route, check parameters and body, answer; listings are cached per data version."""

from __future__ import annotations

import itertools
import json
import os
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from termgate.reference_api import errors
from termgate.reference_api.contract import CONTRACT_PATH, document
from termgate.reference_api.defaults import DEFAULT_EMPLOYEES, DEFAULT_SEED
from termgate.reference_api.errors import ApiError
from termgate.reference_api.handlers import Handler, handler_for
from termgate.reference_api.http import (
    DEBTORS_HEADER,
    REQUEST_ID_HEADER,
    USER_HEADER,
    Request,
    Response,
)
from termgate.reference_api.operations import Operation, operations
from termgate.reference_api.origin import forwarded_host, forwarded_proto, origin
from termgate.reference_api.params import check_path, read_query
from termgate.reference_api.router import Router
from termgate.reference_api.state import PublishedApi
from termgate.reference_api.validation import pointer, request_errors
from termgate.reference_api.world import generate

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_LONG_NUMBER = re.compile(rb"[0-9]{19}")
CONTRACT_ROUTE = "/openapi.yaml"  # the document as shipped
CONTRACT_JSON_ROUTE = "/openapi.json"  # the same document as JSON (where the gateway looks)
MAX_BODY = 1 << 20
CACHE_BYTES = 32 << 20  # listing answers kept until a write, oldest forgotten first
_DEBTORS, _USER = DEBTORS_HEADER.encode(), USER_HEADER.encode()
_REQUEST_ID, _CONTENT_TYPE, _HOST = REQUEST_ID_HEADER.encode(), b"content-type", b"host"
_FORWARDED_HOST, _FORWARDED_PROTO = b"x-forwarded-host", b"x-forwarded-proto"


class PublishedApp:
    """ASGI application serving one world of the published contract."""

    def __init__(self, api: PublishedApi) -> None:
        self.api = api
        self.router = Router(operations())
        self.handlers: dict[str, Handler] = {
            op.operation_id: handler_for(op) for op in operations()
        }
        self.contract = CONTRACT_PATH.read_bytes()
        self.contract_json = orjson.dumps(document())
        self._cache: OrderedDict[tuple[Any, ...], Response] = OrderedDict()
        self._cache_bytes = 0
        self._ids = itertools.count(1)
        self._id_prefix = f"pub-{os.getpid():x}-"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await _lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request, debtors_raw = _request(scope)
        try:
            answer = await self._answer(request, debtors_raw, receive)
        except ApiError as error:
            answer = Response(error.error.status, error.body(), errors.JSON, error.headers)
        except Exception:
            failure = ApiError(errors.SERVER_ERROR, "An unexpected error has occurred.")
            answer = Response(500, failure.body(), errors.JSON)
        request_id = request.request_id or f"{self._id_prefix}{next(self._ids)}"
        await _send(send, answer, request_id.encode())

    async def _answer(self, request: Request, debtors_raw: bytes, receive: Receive) -> Response:
        if request.path == CONTRACT_ROUTE and request.method == "GET":
            return Response(200, self.contract, "application/yaml")
        if request.path == CONTRACT_JSON_ROUTE and request.method == "GET":
            return Response(200, self.contract_json)
        match = self.router.match(request.method, request.path)
        if match is None:
            raise ApiError(errors.NOT_FOUND, f"No resource at {request.path}.")
        op = match.operation
        if op is None:
            detail = f"{request.method} is not allowed on {request.path}"
            raise ApiError(errors.METHOD_NOT_ALLOWED, detail, headers=[(b"allow", match.allow)])
        request.params = match.params
        key = None
        if op.method == "GET" and op.kind == "list":
            key = (request.path, request.query_string, debtors_raw, request.user_id, request.origin)
            cached = self._cache.get(key)
            if cached is not None and cached.headers[0][1] == str(self.api.version).encode():
                return cached
        check_path(op, request.params)
        request.query = read_query(op, request.query_string)
        body = await self._body(op, request, receive)
        answer = self.handlers[op.operation_id](self.api, op, request, body)
        if key is not None:
            answer.headers.insert(0, (b"x-data-version", str(self.api.version).encode()))
            self._remember(key, answer)
        return answer

    def _remember(self, key: tuple[Any, ...], answer: Response) -> None:
        previous = self._cache.pop(key, None)
        if previous is not None:
            self._cache_bytes -= len(previous.body)
        self._cache[key] = answer
        self._cache_bytes += len(answer.body)
        while self._cache_bytes > CACHE_BYTES and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._cache_bytes -= len(dropped.body)

    async def _body(self, op: Operation, request: Request, receive: Receive) -> Any:
        if op.method not in ("POST", "PUT", "PATCH"):
            return None
        raw = await _read_body(receive)
        if op.body_media_type != "application/json":
            return None  # a multipart upload: accepted as it comes
        if not (request.content_type or "application/json").startswith("application/json"):
            raise ApiError(errors.UNSUPPORTED_MEDIA, "The body must be application/json.")
        if not raw.strip():
            if 400 in op.statuses:
                raise ApiError(errors.INVALID_BODY, "The body is missing.",
                               [{"name": "body", "reason": "is required"}])  # fmt: skip
            return None  # the document makes the body optional and declares no 400 here
        body = _json(raw)
        ref = pointer("paths", op.template, op.method.lower(), "requestBody", "content",
                      "application/json", "schema")  # fmt: skip
        problems = request_errors(ref, body)
        if problems:
            raise ApiError(errors.INVALID_BODY, "The body does not match the schema.", problems)
        return body


def _json(raw: bytes) -> Any:
    if _LONG_NUMBER.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    try:  # orjson reads integers beyond 64 bits as floats; JSON (and the schemas) allow them
        return json.loads(raw)
    except ValueError:
        raise ApiError(errors.INVALID_BODY, "The body is not valid JSON.",
                       [{"name": "body", "reason": "not valid JSON"}]) from None  # fmt: skip


def _request(scope: Scope) -> tuple[Request, bytes]:
    request = Request(scope["method"], scope["path"], scope["query_string"])
    debtors_raw = b""
    host, via_host, via_proto = "localhost", None, None
    for name, value in scope["headers"]:
        if name == _HOST:
            host = value.decode("latin-1")
        elif name == _FORWARDED_HOST:
            via_host = forwarded_host(value)
        elif name == _FORWARDED_PROTO:
            via_proto = forwarded_proto(value)
        elif name == _REQUEST_ID:
            request.request_id = value.decode("latin-1")
        elif name == _DEBTORS:
            debtors_raw = value
            request.debtors = frozenset(
                part.strip().lower() for part in value.decode("latin-1").split(",") if part.strip()
            )
        elif name == _USER:
            request.user_id = value.decode("latin-1").strip().lower()
        elif name == _CONTENT_TYPE:
            request.content_type = value.decode("latin-1")
    request.origin = origin(scope.get("scheme", "http"), host, via_host, via_proto)
    return request, debtors_raw


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(errors.BODY_TOO_LARGE, f"The body exceeds {MAX_BODY} bytes.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send: Send, answer: Response, request_id: bytes) -> None:
    headers = [(b"x-request-id", request_id), *answer.headers]
    if answer.content_type is not None:
        headers.append((b"content-type", answer.content_type.encode()))
    headers.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(seed: int = DEFAULT_SEED, employees: int = DEFAULT_EMPLOYEES) -> PublishedApp:
    """The API over the world of `seed` (same seed, same data)."""
    return PublishedApp(PublishedApi(generate(seed, employees)))
