"""An upstream that publishes the published contract's OpenAPI document and reports, for every
request the gateway forwards, the method and the RAW request target it received.

It is the oracle of the authorised-operation property: the raw target, decoded the way the
published API's server decodes it (percent-decoding, then UTF-8 with replacement: granian's
`scope["path"]`), and routed by the published API's own router over all its operations, is the
operation the upstream would serve. It answers the gateway's own tenant lookups (the listings of
`tenancy/published.toml`) from the published API's generated world (`published_world`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import httptools
import orjson

from termgate.reference_api import document, operations
from termgate.reference_api.router import Match, Router
from tests.gateway.published_world import companies, employees, world
from tests.support.echo_upstream import LoopbackServer

ROUTER = Router(operations())
DEBTORS = tuple(debtor.id for debtor in world().debtors)
# Company → owning debtor, and employee → company: what the gateway learns from the listings.
OWNERS = {company: debtor for index, debtor in enumerate(DEBTORS) for company in companies(index)}
EMPLOYERS = {employee: company for company in OWNERS for employee in employees(company)}


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


def _page(items: list[dict[str, str]]) -> tuple[int, bytes]:
    pagination = {"pageNumber": 1, "pageSize": 100, "totalPages": 1, "totalRecords": len(items)}
    return 200, orjson.dumps({"pagination": pagination, "data": items})


def _gateway_lookup(path: bytes) -> tuple[int, bytes]:
    if path == b"/openapi.json":
        return 200, orjson.dumps(document())
    if path == b"/api/companies":
        return _page([{"companyId": c, "debtorId": d} for c, d in OWNERS.items()])
    parts = path.decode("latin-1").split("/")
    _, api, kind, parent, listing = parts if len(parts) == 5 else ["", "", "", "", ""]
    if (api, kind, listing) == ("api", "debtors", "companies") and parent in DEBTORS:
        owned = [c for c, d in OWNERS.items() if d == parent]
        return _page([{"companyId": c, "debtorId": parent} for c in owned])
    if (api, kind, listing) == ("api", "companies", "employees") and parent in OWNERS:
        return _page([{"employeeId": e} for e, c in EMPLOYERS.items() if c == parent])
    return 404, b'{"status":404}'
