"""Which debtor owns a company (clause 3.3 a), learnt from a real HTTP upstream in this process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest

from termgate.gateway.tenants import CompanyDirectory
from termgate.upstream_client.pool import UpstreamError, UpstreamPool


class Upstream:
    """A tiny HTTP/1.1 server: answers each path from `answers`, 404 otherwise; logs paths."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, bytes]] = {}
        self.paths: list[str] = []
        self.hosts: set[str] = set()
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            self.paths.append(path)
            for line in head.decode().split("\r\n"):
                if line.lower().startswith("host:"):
                    self.hosts.add(line[5:].strip())
            await asyncio.sleep(0.01)  # concurrent lookups overlap
            status, body = self.answers.get(path, (404, b"{}"))
            writer.write(
                f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()

    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    served = Upstream()
    served.server = await asyncio.start_server(served.handle, "127.0.0.1", 0)
    yield served
    served.server.close()


def directory(upstream: Upstream) -> CompanyDirectory:
    pool = UpstreamPool("127.0.0.1", upstream.port(), max_idle=4, connect_timeout=2, timeout=5)
    return CompanyDirectory(pool, "payroll.test")


def page(companies: list[object], pages: int | None) -> tuple[int, bytes]:
    document: dict[str, object] = {"data": companies}
    if pages is not None:
        document["pagination"] = {"totalPages": pages}
    return 200, orjson.dumps(document)


async def test_clause_3_3_a_preload_learns_every_page(upstream: Upstream) -> None:
    first = "/api/companies?pageNumber=1&pageSize=100"
    second = "/api/companies?pageNumber=2&pageSize=100"
    upstream.answers[first] = page(
        [{"id": 30, "debtorId": 7}, {"id": "31", "debtorId": 8}, "junk", {"id": 32}], 2
    )
    upstream.answers[second] = page(
        [
            {"id": 33, "debtorId": 8},
            {"id": 34, "debtorId": "9"},
            {"id": 35, "debtorId": "9,10"},
            {"id": 36, "debtorId": True},
            {"id": 37, "debtorId": -1},
            {"id": 38, "debtorId": "5B6A77C7-6ABE-4F31-93DC-2692169E3EA4"},
        ],
        2,
    )
    companies = directory(upstream)
    assert await companies.preload() == 4
    # Debtor ids as the consents hold them: canonical strings; what is no debtor id is skipped.
    guid = "5b6a77c7-6abe-4f31-93dc-2692169e3ea4"
    assert companies.owner == {"30": "7", "33": "8", "34": "9", "38": guid}
    assert upstream.paths == [first, second]
    assert upstream.hosts == {"payroll.test"}


async def test_clause_3_3_a_preload_of_one_page_without_pagination(upstream: Upstream) -> None:
    upstream.answers["/api/companies?pageNumber=1&pageSize=100"] = page(
        [{"id": 30, "debtorId": 7}], None
    )
    companies = directory(upstream)
    assert await companies.preload() == 1
    assert len(upstream.paths) == 1
    upstream.answers["/api/companies?pageNumber=1&pageSize=100"] = (200, b'{"data": null}')
    assert await directory(upstream).preload() == 0


async def test_clause_3_3_a_unknown_company_is_asked_for_once(upstream: Upstream) -> None:
    upstream.answers["/api/companies/40"] = (200, orjson.dumps({"id": 40, "debtorId": 7}))
    companies = directory(upstream)
    assert await asyncio.gather(companies.learn("40"), companies.learn("40")) == ["7", "7"]
    assert upstream.paths == ["/api/companies/40"]
    assert upstream.hosts == {"payroll.test"}
    assert await companies.learn("40") == "7"
    assert upstream.paths == ["/api/companies/40"]
    assert companies.owner == {"40": "7"}
    assert companies._lookups == {}


async def test_clause_3_3_a_missing_or_non_canonical_company_has_no_owner(
    upstream: Upstream,
) -> None:
    companies = directory(upstream)
    assert await companies.learn("41") is None
    assert await companies.learn("041") is None
    assert await companies.learn("٤١") is None
    assert upstream.paths == ["/api/companies/41"]
    assert companies.owner == {}


async def test_clause_3_3_a_failed_lookup_fails_every_waiter_and_is_not_kept(
    upstream: Upstream,
) -> None:
    upstream.answers["/api/companies/42"] = (500, b"{}")
    companies = directory(upstream)
    results = await asyncio.gather(
        companies.learn("42"), companies.learn("42"), return_exceptions=True
    )
    assert [str(result) for result in results] == ["GET /api/companies/42 answered 500"] * 2
    assert all(isinstance(result, UpstreamError) for result in results)
    assert companies._lookups == {}
    upstream.answers["/api/companies/42"] = (200, b"not json")
    with pytest.raises(UpstreamError, match=r"^GET /api/companies/42: no JSON$"):
        await companies.learn("42")
    upstream.answers["/api/companies/42"] = (200, orjson.dumps({"id": 42, "debtorId": 9}))
    assert await companies.learn("42") == "9"
    assert upstream.paths == ["/api/companies/42"] * 3


def test_clause_3_3_a_company_with_a_malformed_owner_is_not_placed_and_the_log_names_both(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A listed company whose debtor id is not one stays unknown (so it is never let through),
    and the operator's log says which company and what it named, cut short."""
    companies = CompanyDirectory(None, "upstream")  # type: ignore[arg-type]  # no lookups here
    with caplog.at_level("WARNING", logger="termgate.gateway.tenants"):
        companies._remember({"id": 2001, "debtorId": "1001,1002"})
    assert companies.owner == {}
    assert caplog.messages == ["company 2001 names no debtor id: '1001,1002'"]
