"""A payroll tenant tree served in the published contract's listing shapes, for the gateway's
tenancy tests: debtors own companies, companies employ employees, every id a GUID.

`TenantTree.answer` serves `GET /api/debtors`, `GET /api/companies` (each company with its
`debtorId`), `GET /api/debtors/{debtorId}/companies` and `GET /api/companies/{companyId}/employees`
(items `{"employeeId": …, "employeeBasicInfo": …}`, which do not name the company), paged in the
`{"pagination": {...}, "data": [...]}` envelope with `pageNumber`/`pageSize` (at most 100).
Like an upstream that parses GUIDs, it reads path ids in any case and lists some ids in upper
case. `fetch` answers in process (counting every request); `TenantUpstream` serves the same tree
over HTTP on a free loopback port.

`TenantTree.generate(..., integer_ids=True)` is another provider's contract instead: decimal ids
(debtors, companies and employees numbered from 1001) and items naming their own id `id`, as
the reference API before the published contract wrote them (`tests/support/integer_tenancy.toml`
describes it to the gateway).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httptools
import orjson

from tests.support.echo_upstream import LoopbackServer

BASE = "http://upstream.test"
MAX_PAGE_SIZE = 100
FIRST_INTEGER_ID = 1001
# The field that names an item's own id in each listing, per contract.
PUBLISHED_FIELDS = {"debtor": "debtorId", "company": "companyId", "employee": "employeeId"}
INTEGER_FIELDS = {"debtor": "id", "company": "id", "employee": "id"}


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class TenantTree:
    companies: dict[str, str] = field(default_factory=dict)  # company → debtor
    employees: dict[str, str] = field(default_factory=dict)  # employee → company
    debtors: list[str] = field(default_factory=list)
    shout: frozenset[str] = frozenset()  # ids the upstream lists in upper case
    requests: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=lambda: dict(PUBLISHED_FIELDS))

    @classmethod
    def generate(
        cls,
        seed: int,
        debtors: int = 4,
        companies: int = 3,
        employees: int = 30,
        *,
        integer_ids: bool = False,
    ) -> TenantTree:
        """`debtors` debtors with 1..`companies` companies, each with 0..`employees` employees;
        GUIDs named `debtorId`/`companyId`/`employeeId`, or numbers named `id`."""
        rng = random.Random(seed)
        tree = cls(fields=dict(INTEGER_FIELDS if integer_ids else PUBLISHED_FIELDS))
        numbers = itertools.count(FIRST_INTEGER_ID)
        new_id: Callable[[], str] = (
            (lambda: str(next(numbers))) if integer_ids else (lambda: guid(rng))
        )
        for _ in range(debtors):
            debtor = new_id()
            tree.debtors.append(debtor)
            for _ in range(rng.randint(1, companies)):
                company = new_id()
                tree.companies[company] = debtor
                for _ in range(rng.randint(0, employees)):
                    tree.employees[new_id()] = company
        every = [*tree.debtors, *tree.companies, *tree.employees]
        tree.shout = frozenset(rng.sample(every, len(every) // 5))
        return tree

    def debtor_of_employee(self, employee: str) -> str:
        return self.companies[self.employees[employee]]

    def listed(self, value: str) -> str:
        return value.upper() if value in self.shout else value

    async def fetch(self, target: str) -> tuple[int, bytes]:
        self.requests.append(target)
        await asyncio.sleep(0)  # let concurrent lookups overlap, as over a socket
        return self.answer(target)

    def walks(self, path: str) -> int:
        """How often a listing was walked from its first page."""
        return sum(1 for target in self.requests if target.startswith(f"{path}?pageNumber=1&"))

    def answer(self, target: str) -> tuple[int, bytes]:
        url = urlsplit(target)
        query = {name: values[-1] for name, values in parse_qs(url.query).items()}
        parts = url.path.split("/")
        items: list[dict[str, Any]]
        if url.path == "/api/debtors":
            named = self.fields["debtor"]
            items = [{named: self.listed(d), "number": "1", "name": "D"} for d in self.debtors]
        elif url.path == "/api/companies":
            items = [self._company(c) for c in self.companies]
        elif len(parts) == 5 and parts[1:3] == ["api", "debtors"] and parts[4] == "companies":
            debtor = parts[3].lower()
            if debtor not in self.debtors:
                return 404, orjson.dumps({"httpStatus": 404, "code": 40401})
            items = [self._company(c) for c, d in self.companies.items() if d == debtor]
        elif len(parts) == 5 and parts[1:3] == ["api", "companies"] and parts[4] == "employees":
            company = parts[3].lower()
            if company not in self.companies:
                return 404, orjson.dumps({"httpStatus": 404, "code": 40404})
            named = self.fields["employee"]
            items = [
                {named: self.listed(e), "employeeBasicInfo": {"firstName": "A"}}
                for e, c in self.employees.items()
                if c == company
            ]
        else:
            return 404, orjson.dumps({"httpStatus": 404, "code": 40401})
        return 200, orjson.dumps(_page(url.path, items, query))

    def _company(self, company: str) -> dict[str, Any]:
        debtor = self.companies[company]
        return {
            self.fields["company"]: self.listed(company),
            "number": "1",
            "name": "C",
            "debtorId": self.listed(debtor),
        }


def _page(path: str, items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    number = max(1, int(query.get("pageNumber", "1")))
    size = min(MAX_PAGE_SIZE, max(1, int(query.get("pageSize", "20"))))
    pages = math.ceil(len(items) / size)

    def link(page: int) -> str:
        return f"{BASE}{path}?pageNumber={page}&pageSize={size}"

    return {
        "pagination": {
            "pageNumber": number,
            "pageSize": size,
            "totalPages": pages,
            "totalRecords": len(items),
            "firstPage": link(1),
            "lastPage": link(max(pages, 1)),
            "nextPage": link(number + 1) if number < pages else None,
            "previousPage": link(number - 1) if number > 1 else None,
        },
        "data": items[(number - 1) * size : number * size],
    }


@dataclass
class TenantUpstream(LoopbackServer):
    """The tree over HTTP/1.1 keep-alive, for the resolver over the gateway's upstream pool."""

    tree: TenantTree = field(default_factory=TenantTree)

    def connection(self) -> asyncio.Protocol:
        return _Connection(self.tree)


class _Connection(asyncio.Protocol):
    def __init__(self, tree: TenantTree) -> None:
        self.tree = tree
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_begin(self) -> None:
        self.url = b""

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_message_complete(self) -> None:
        assert self.transport is not None
        target = self.url.decode()
        self.tree.requests.append(target)
        status, body = self.tree.answer(target)
        head = b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
        self.transport.write(head % (status, len(body)) + body)
