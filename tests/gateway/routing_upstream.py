"""An upstream that publishes the reference API's OpenAPI document and reports, for every
request the gateway forwards, the method and the RAW request target it received.

It is the oracle of the authorised-operation property: the raw target, decoded the way the
reference API's server decodes it (percent-decoding, then UTF-8 with replacement: granian's
`scope["path"]`), and routed by the reference API's own router, is the operation the upstream
would serve. It answers the gateway's own company lookups from a small fixed directory.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import httptools
import orjson

from termgate.reference_api.openapi import build_openapi
from termgate.reference_api.router import Match, Router
from termgate.reference_api.routes import ROUTES
from tests.support.echo_upstream import LoopbackServer

ROUTER = Router(ROUTES)
# Company → owning debtor: what the gateway preloads and learns from GET /api/companies[/{id}].
OWNERS = {2001: 1001, 2002: 1001, 2003: 1002, 2004: 1003, 2005: 1004, 2006: 1005}


@dataclass(frozen=True)
class Served:
    method: str
    target: bytes
    request_id: str

    @property
    def path(self) -> str:
        """The path as the reference API's server hands it to the router."""
        return unquote(urlsplit(self.target).path.decode("latin-1"), errors="replace")

    @property
    def query(self) -> str:
        return urlsplit(self.target).query.decode("latin-1")

    def match(self) -> Match | None:
        return ROUTER.match(self.method, self.path)


@dataclass
class RoutingUpstream(LoopbackServer):
    served: dict[str, Served] = field(default_factory=dict)  # by the gateway's request id

    def connection(self) -> asyncio.Protocol:
        return _Connection(self)


def _company(company: int) -> dict[str, int]:
    return {"id": company, "debtorId": OWNERS[company]}


class _Connection(asyncio.Protocol):
    def __init__(self, upstream: RoutingUpstream) -> None:
        self.upstream = upstream
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.headers: dict[bytes, bytes] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._answer(400, b"{}")
            assert self.transport is not None
            self.transport.close()

    def on_message_begin(self) -> None:
        self.url, self.headers = b"", {}

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value

    def on_message_complete(self) -> None:
        method = self.parser.get_method().decode()
        path = urlsplit(self.url).path
        if b"x-forwarded-for" not in self.headers:  # the gateway's own requests
            self._answer(*_gateway_lookup(path))
            return
        request_id = self.headers.get(b"x-request-id", b"").decode("latin-1")
        self.upstream.served[request_id] = Served(method, self.url, request_id)
        self._answer(200, b'{"served":true}')

    def _answer(self, status: int, body: bytes) -> None:
        assert self.transport is not None
        head = b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
        self.transport.write(head % (status, len(body)) + body)


def _gateway_lookup(path: bytes) -> tuple[int, bytes]:
    if path == b"/openapi.json":
        return 200, orjson.dumps(build_openapi())
    if path == b"/api/companies":
        page = {
            "data": [_company(company) for company in OWNERS],
            "pagination": {"pageNumber": 1, "pageSize": 100, "totalPages": 1},
        }
        return 200, orjson.dumps(page)
    prefix = b"/api/companies/"
    if path.startswith(prefix) and path[len(prefix) :].isdigit():
        company = int(path[len(prefix) :])
        if company in OWNERS:
            return 200, orjson.dumps(_company(company))
    return 404, b'{"status":404}'
