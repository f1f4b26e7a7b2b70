"""Encoded and odd request targets through a real gateway to the published payroll API.

The server decodes the path before the gateway sees it. These reproduce what an attacker did
with that (on the API of before the published contract): `salaries%3F` matched a single-employee
operation (scope employee.info.read) while
the decoded `?` made the upstream serve the company's salary listing; the same trick skipped a
retirement and the plan's page cap; `%0d%0a` split the upstream request line; `²` and `€` ended
in bare 500s without a usage event. Each must now be refused (or answered by the operation the
gateway authorised) and recorded.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.traffic import LifecycleState
from termgate.governance.lifecycle import set_lifecycle
from tests.gateway.conftest import Gateway, wait_for_status
from tests.gateway.published_world import companies, debtor, employees
from tests.gateway.raw_http import raw_get, usage_event
from tests.support.factories import IssuedAccess, issue_test_access

SALARY_LISTING = "getSalariesByCompany"
# The debtor every access below has consent for, another customer's, and a company and an
# employee of the first.
MINE, THEIRS = debtor(0), debtor(1)


@pytest.fixture
def company() -> str:
    return companies(0)[0]


@pytest.fixture
def employee(company: str) -> str:
    return employees(company, 1)[0]


async def ready(client: httpx.AsyncClient, gateway: Gateway, access: IssuedAccess) -> None:
    url = f"{gateway.url}/api/debtors/{MINE}/tags"
    await wait_for_status(client, url, access.key.key, 200, token=access.token.token)


@pytest.fixture
async def info_only(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> IssuedAccess:
    """An application whose end user granted employee.info.read and no salary scope."""
    access = await issue_test_access(
        sessions, debtors=(MINE,), scope="debtor.info.read employee.info.read"
    )
    await ready(client, published_gateway, access)
    return access


@pytest.mark.parametrize("escape", ["%3F", "%3f", "%23", "%3FpageSize=100"])
async def test_clause_3_3_a_encoded_query_mark_does_not_reach_the_salary_listing(
    published_gateway: Gateway,
    info_only: IssuedAccess,
    sessions: async_sessionmaker[AsyncSession],
    company: str,
    escape: str,
) -> None:
    plain = await raw_get(
        published_gateway.url,
        f"/api/companies/{company}/employees/salaries".encode(),
        info_only.headers,
    )
    assert plain.status == 403
    assert plain.json()["code"] == 40302
    target = f"/api/companies/{company}/employees/salaries{escape}".encode()
    response = await raw_get(published_gateway.url, target, info_only.headers)
    assert response.status == 400, response.body[:300]
    problem = response.json()
    assert (problem["code"], problem["clause"]) == (40002, "3.3 c")
    assert "salary" not in response.body.decode().lower().replace("salaries", "")
    event = await usage_event(sessions, response.headers["x-request-id"])
    assert (event.status, event.code) == (400, 40002)


async def test_clause_4_6_retired_operation_is_not_reached_through_an_encoded_path(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    company: str,
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE,))
    await ready(client, published_gateway, access)
    plain = f"/api/companies/{company}/employees/salaries".encode()
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        await set_lifecycle(
            session,
            [SALARY_LISTING],
            LifecycleState.RETIRED,
            actor="tests",
            now=now,
            deprecated_at=now - timedelta(days=60),
            sunset_at=now - timedelta(days=1),
        )
    try:
        for _ in range(100):
            retired = await raw_get(published_gateway.url, plain, access.headers)
            if retired.status == 410:
                break
            await asyncio.sleep(0.05)
        assert retired.status == 410
        encoded = await raw_get(published_gateway.url, plain + b"%3F", access.headers)
        assert encoded.status == 400, encoded.body[:300]
        assert encoded.json()["code"] == 40002
    finally:
        async with sessions.begin() as session:
            await set_lifecycle(
                session, [SALARY_LISTING], LifecycleState.ACTIVE, actor="tests", now=now
            )


@pytest.mark.parametrize(
    "suffix",
    [
        b"%0d%0aX-Termgate-Debtors:%20" + THEIRS.encode(),
        b"%00",
        b"%09",
        b"%5C..",
        b"%2F..",
        b"%2F..%2F",
        b"/%2e%2e",
    ],
)
async def test_clause_3_3_c_control_characters_and_dot_segments_in_a_path_are_refused(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    employee: str,
    suffix: bytes,
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE,))
    await ready(client, published_gateway, access)
    target = f"/api/employees/{employee}".encode() + suffix
    response = await raw_get(published_gateway.url, target, access.headers)
    assert response.status == 400, response.body[:300]
    assert response.json()["code"] == 40002
    event = await usage_event(sessions, response.headers["x-request-id"])
    assert (event.status, event.code) == (400, 40002)


@pytest.mark.parametrize("segment", [b"%E2%82%AC", b"%C2%B2", b"%D9%A1", b"%FF", b"salaries%25"])
async def test_clause_4_1_non_ascii_path_segment_is_answered_and_recorded(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    segment: bytes,
) -> None:
    """`€`, `²`, `١` (Arabic-Indic one) and an invalid escape name no employee: the gateway's
    400, or its 40303 for an id not in the API's form (never forwarded), never a 500, and a
    usage event either way."""
    access = await issue_test_access(sessions, debtors=(MINE,))
    await ready(client, published_gateway, access)
    target = b"/api/employees/" + segment
    response = await raw_get(published_gateway.url, target, access.headers)
    assert response.status in (400, 403), response.body[:300]
    assert response.json()["code"] in (40002, 40303)
    event = await usage_event(sessions, response.headers["x-request-id"])
    assert event.status == response.status
    if response.status == 404:
        assert event.operation == "/api/employees/{employeeId}"


@pytest.mark.parametrize(
    "query",
    [
        b"pageSize=+11",
        b"pageSize=%2011",
        b"pageSize=1_1",
        b"page%53ize=50",
        b"pageSize=%C2%B2",
        b"pageSize=%D9%A1%D9%A1",
        b"pageSize=5&pageSize=50",
        b"pageSize[]=50",
        b"pageSize=-1",
        b"pageSize=11",
    ],
)
async def test_clause_3_3_e_page_size_is_read_as_the_api_reads_it(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    query: bytes,
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE,), max_page_size=10)
    await ready(client, published_gateway, access)
    response = await raw_get(published_gateway.url, b"/api/companies?" + query, access.headers)
    assert response.status == 400, response.body[:300]
    problem = response.json()
    assert (problem["code"], problem["clause"]) == (40001, "3.3 e")
    assert problem["invalid-params"][0]["name"].startswith("pageSize")
    event = await usage_event(sessions, response.headers["x-request-id"])
    assert (event.status, event.code) == (400, 40001)


async def test_clause_3_3_e_plan_cap_applies_to_the_default_page_size(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    company: str,
) -> None:
    """The API's default page is 20 rows; a plan capped at 10 gets 10 without asking."""
    access = await issue_test_access(sessions, debtors=(MINE,), max_page_size=10)
    await ready(client, published_gateway, access)
    path = f"/api/companies/{company}/employees".encode()
    for target in (path, path + b"?pageNumber=1"):
        response = await raw_get(published_gateway.url, target, access.headers)
        assert response.status == 200, response.body[:300]
        page = response.json()
        assert page["pagination"]["pageSize"] == 10
        assert 0 < len(page["data"]) <= 10
    wide = await issue_test_access(sessions, debtors=(MINE,), max_page_size=100)
    await ready(client, published_gateway, wide)
    response = await raw_get(published_gateway.url, path, wide.headers)
    assert response.json()["pagination"]["pageSize"] == 20  # the API's own default, untouched


async def test_clause_3_3_a_reference_api_decodes_the_path_as_the_gateway_assumes(
    published_upstream: str, company: str, employee: str
) -> None:
    """The gateway forwards `%3F` and `%2F` re-encoded on the assumption that the API decodes
    them once into the path it routes: a path holding `?` names no operation, `%2F` is a `/`."""
    question = f"/api/companies/{company}/employees/salaries%3F".encode()
    response = await raw_get(published_upstream, question, {})
    assert response.status == 404
    assert response.json()["code"] == 40401
    slash = await raw_get(published_upstream, f"/api/debtors/{MINE}%2Fcompanies".encode(), {})
    assert slash.status == 200
    assert {row["debtorId"] for row in slash.json()["data"]} == {MINE}
    one = await raw_get(published_upstream, f"/api/employees%2F{employee}".encode(), {})
    assert [row["employeeId"] for row in one.json()["data"]] == [employee]
