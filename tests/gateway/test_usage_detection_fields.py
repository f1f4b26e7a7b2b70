"""Clause 4.1 (the provider monitors use), for detection (clause 3.3 b-d): every usage event
names the tenant ids its path carried (debtor, company, employee, as written), the client's
address (the peer, or what a trusted proxy forwarded for) and the token's scope the operation
was allowed by, refused requests included: probing another customer's ids is what detection
looks for."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import UsageEvent
from tests.gateway.conftest import Gateway, gateway_process, wait_for_status
from tests.gateway.published_world import companies, debtor, employees
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import issue_test_access


async def events_by_client_id(
    sessions: async_sessionmaker[AsyncSession], prefix: str, count: int
) -> dict[str, UsageEvent]:
    """The events whose client request id starts with `prefix`, once `count` have arrived."""
    query = select(UsageEvent).where(UsageEvent.client_request_id.like(f"{prefix}%"))
    for _ in range(100):  # the test gateways flush every 0.2 s
        async with sessions() as session:
            events = list(await session.scalars(query))
        if len(events) >= count:
            break
        await asyncio.sleep(0.1)
    return {str(event.client_request_id).removeprefix(prefix): event for event in events}


def detection_fields(event: UsageEvent) -> tuple[object, ...]:
    return (
        event.status,
        event.debtor_id,
        event.company_id,
        event.employee_id,
        event.client_ip,
        event.scope,
    )


async def test_clause_4_1_usage_event_records_tenant_ids_and_client_ip(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    own, foreign = debtor(0), debtor(1)
    company, foreign_company = companies(0)[0], companies(1)[0]
    employee = employees(company, 1)[0]
    access = await issue_test_access(
        sessions, debtors=(own,), scope="company.info.read employee.info.read"
    )
    base = published_gateway.url
    listing = f"{base}/api/debtors/{own}/companies"
    await wait_for_status(client, listing, access.key.key, 200, token=access.token.token)
    prefix = f"detect-{uuid.uuid4().hex[:8]}-"
    asked = {
        "debtor": ("GET", f"/api/debtors/{own}/companies"),
        "company": ("GET", f"/api/companies/{company}/employees"),
        "employee": ("GET", f"/api/employees/{employee}"),
        "foreign-debtor": ("GET", f"/api/debtors/{foreign}/companies"),
        "foreign-company": ("GET", f"/api/companies/{foreign_company}/employees"),
        "no-scope": ("POST", f"/api/companies/{company}/employees/{employee}/absences"),
        "long-id": ("GET", f"/api/employees/{'e' * 300}"),
        "no-tenant": ("GET", "/api/nothing-here"),
    }
    answers = {}
    for name, (method, path) in asked.items():
        # X-Forwarded-For from a client this gateway does not trust: ignored.
        headers = {**access.headers, "X-Request-Id": prefix + name, "X-Forwarded-For": "192.0.2.1"}
        response = await client.request(method, base + path, headers=headers, json=None)
        answers[name] = response.status_code

    events = await events_by_client_id(sessions, prefix, len(asked))

    local, read_company, read_employee = "127.0.0.1", "company.info.read", "employee.info.read"
    assert {name: detection_fields(event) for name, event in events.items()} == {
        "debtor": (200, own, None, None, local, read_company),
        "company": (200, None, company, None, local, read_employee),
        "employee": (200, None, None, employee, local, read_employee),
        "foreign-debtor": (403, foreign, None, None, local, read_company),
        "foreign-company": (403, None, foreign_company, None, local, read_employee),
        "no-scope": (403, None, company, employee, local, None),
        "long-id": (403, None, None, "e" * 64, local, read_employee),
        "no-tenant": (404, None, None, None, local, None),
    }
    assert answers == {name: event.status for name, event in events.items()}


async def test_clause_4_1_usage_event_client_ip_is_the_forwarded_one_behind_a_trusted_proxy(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions)
    prefix = f"proxied-{uuid.uuid4().hex[:8]}-"
    chains = {
        "one-hop": "203.0.113.9",
        "two-hops": "198.51.100.7, 203.0.113.9",  # the right-most untrusted entry is the client
        "v6": "[2001:db8::1]:443",
        "garbage": "unknown",  # nothing to believe: the trusted peer stays the client
    }
    async with (
        gateway_process(database_url, echo_upstream[1], trusted_proxies="127.0.0.1") as gateway,
        httpx.AsyncClient(timeout=10) as client,
    ):
        url = f"{gateway.url}/api/echo"
        await wait_for_status(client, url, access.key.key, 200, token=access.token.token)
        for name, chain in chains.items():
            headers = {**access.headers, "X-Request-Id": prefix + name, "X-Forwarded-For": chain}
            assert (await client.get(url, headers=headers)).status_code == 200
    events = await events_by_client_id(sessions, prefix, len(chains))
    assert {name: event.client_ip for name, event in events.items()} == {
        "one-hop": "203.0.113.9",
        "two-hops": "203.0.113.9",
        "v6": "2001:db8::1",
        "garbage": "127.0.0.1",
    }
