"""Clauses 3.3 a, 3.3 e and 4.6 as one property: the operation the gateway authorises is exactly
the operation the upstream serves.

Requests of every operation of the published contract (all 123, reads and writes), their path
parameters drawn from the ids of the published API's world (debtors, companies, employees, as
GUIDs and in lookalike spellings), template words, non-ASCII digits, reserved and control
characters, each character sent raw or percent-encoded, with dot segments and odd page sizes, go
with a token of randomly drawn scopes and consent through a real gateway (the published tenancy)
to an upstream that reports the raw target it received. That target, decoded and routed by the
published API's own router, must be the operation the gateway recorded in its usage event; and
it must be one the token's scopes allow, over tenants the consent covers (a company that exists
nowhere goes on to the API's own 404), with a page no larger than the plan's cap.

Hypothesis draws a fresh seed each run (printed below) and keeps failures in its database.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.scopes import granted_scopes
from termgate.query import QueryError, parse_query, whole_number
from termgate.reference_api import Operation, document, operations
from termgate.reference_api.paging import DEFAULT_PAGE_SIZE
from tests.gateway.conftest import Gateway, gateway_process, wait_for_status
from tests.gateway.published_world import NOWHERE, employees
from tests.gateway.raw_http import RawResponse, raw_get_sync, usage_event
from tests.gateway.routing_upstream import DEBTORS, EMPLOYERS, OWNERS, RoutingUpstream, Served
from tests.support.factories import IssuedToken, issue_test_key, issue_test_token
from tests.support.processes import PUBLISHED_TENANCY

OPERATIONS = operations()
CAP = 10
TOKENS = 16
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Two employees of each company: ids the consent may or may not cover.
STAFF = [employee for company in OWNERS for employee in employees(company, 2)]
WORDS = ["salaries", "employees", "documents", "companies", "debtors", "info", "api", "runs"]
ODD = ["١٠٠١", "²", "１００１", "€", "+2001", " 2001", "0x7d1", "02001", "1_0", "", "1001"]
QUERIES = ["", "", "pageSize=5", "pageSize=100", "pageSize=+11", "page%53ize=50"]
QUERIES += ["pageSize=%C2%B2", "pageSize=1&pageSize=100", "pageNumber=2", "pageSize[]=50"]
# Escapes after a value: what turned a single-employee read into the salary listing.
ESCAPES = ["", "", "", "", "%3F", "%23", "%3FpageSize=100", "%2F..", "%2Fsalaries", "%252F"]
SUFFIXES = ["", "", "", "/", "/.", "/..", "/%2e%2e", "%2F..", "%3F", "%23"]
# Characters that change what a path means when they survive decoding.
RESERVED = "?#/%\\;=&+. \r\n\x00\t\x7f\u0085é€"


@pytest.fixture
async def routing_upstream() -> AsyncIterator[tuple[RoutingUpstream, str]]:
    upstream = RoutingUpstream()
    port = await upstream.start()
    yield upstream, f"http://127.0.0.1:{port}"
    await upstream.close()


@pytest.fixture
async def gateway(
    database_url: str, routing_upstream: tuple[RoutingUpstream, str]
) -> AsyncIterator[Gateway]:
    async with gateway_process(
        database_url,
        routing_upstream[1],
        usage_flush_seconds="0.05",
        tenancy_path=PUBLISHED_TENANCY,
    ) as gateway:
        yield gateway


def encode(value: str, choices: list[bool]) -> str:
    """`value` with each character percent-encoded (UTF-8) or sent raw, as `choices` say;
    characters that cannot travel raw in a request line are always encoded."""
    out = []
    for index, char in enumerate(value):
        raw_ok = char.isprintable() and char not in " %" and not char.isspace()
        if raw_ok and not (choices[index % len(choices)] if choices else False):
            out.append(char)
        else:
            out.append("".join(f"%{byte:02X}" for byte in char.encode()))
    return "".join(out)


def valid_ids(name: str) -> list[str]:
    return {
        "debtorId": [*DEBTORS, NOWHERE],
        "companyId": [*OWNERS, NOWHERE],
        "employeeId": [*STAFF, NOWHERE],
        "Year": ["2026", "1999"],
    }.get(name, [NOWHERE, "1", "42", "doc-1"])


def lookalikes(ids: list[str]) -> list[str]:
    """Other spellings of real ids: upper case, braces, no hyphens, one digit more."""
    real = [value for value in ids if value != NOWHERE][:3]
    return [
        spelled
        for value in real
        for spelled in (value.upper(), "{" + value + "}", value.replace("-", ""), value + "0")
    ]


@st.composite
def odd_parameter(draw: st.DrawFn, name: str) -> str:
    ids = valid_ids(name)
    value = draw(
        st.sampled_from(ids).map(lambda value: value + draw(st.sampled_from(RESERVED)))
        | st.sampled_from(ids)
        | st.sampled_from(lookalikes(ids) or ids)
        | st.sampled_from(WORDS)
        | st.sampled_from(ODD)
        | st.uuids().map(str)
        | st.text(alphabet=st.sampled_from(RESERVED + "0123456789az"), min_size=1, max_size=6)
        | st.text(min_size=1, max_size=4)
    )
    encoded = encode(value, draw(st.lists(st.booleans(), max_size=4)))
    return encoded + draw(st.sampled_from(ESCAPES))


@st.composite
def request_target(draw: st.DrawFn, debtors: frozenset[str]) -> tuple[Operation, bytes]:
    """Half plain requests (mostly of the consent's tenants, a valid page size), half odd."""
    operation = draw(st.sampled_from(OPERATIONS))
    plain = draw(st.booleans())
    mine = {
        "debtorId": sorted(debtors),
        "companyId": [company for company, owner in OWNERS.items() if owner in debtors],
        "employeeId": [e for e in STAFF if OWNERS[EMPLOYERS[e]] in debtors],
    }
    path = operation.template
    for name in operation.path_params:
        ids = st.sampled_from(valid_ids(name))
        if mine.get(name):
            ids = st.sampled_from(mine[name]) | st.sampled_from(mine[name]) | ids
        value = draw(ids if plain else odd_parameter(name))
        path = path.replace("{" + name + "}", value, 1)
    if plain:
        query = draw(st.sampled_from(["", "pageSize=5", "pageNumber=2", f"pageSize={CAP}"]))
    else:
        path += draw(st.sampled_from(SUFFIXES))
        query = draw(st.sampled_from(QUERIES))
    target = path + ("?" + query if query else "")
    return operation, target.encode("utf-8")


def needs(operation: Operation) -> list[frozenset[str]]:
    """The document's security requirements of the operation, each as the scopes it needs: a
    write scope listed with its own read scope (`employee.info`, `employee.info.read`) is
    satisfied by either, and a write scope grants its read scope, so the read alone is needed."""
    entry = document()["paths"][operation.template][operation.method.lower()]
    found = []
    for requirement in entry.get("security", document().get("security", [])):
        listed = {scope for scopes in requirement.values() for scope in scopes}
        found.append(frozenset(s for s in listed if s + ".read" not in listed))
    return found


def allowed(operation: Operation, scopes: frozenset[str]) -> bool:
    granted = granted_scopes(scopes)
    return any(need <= granted for need in needs(operation))


def tenant_of(name: str, value: str) -> str | None:
    """The debtor owning the id a path parameter names ("" for an id of no one's), or None for
    an id not in the API's form (which must never reach it)."""
    if not GUID.fullmatch(value.lower()):
        return None
    value = value.lower()
    if name == "debtorId":
        return value
    if name == "companyId":
        return OWNERS.get(value, "")
    return OWNERS.get(EMPLOYERS.get(value, ""), "")


def covered(operation: Operation, params: dict[str, str], debtors: frozenset[str]) -> bool:
    for name, value in params.items():
        if name not in ("debtorId", "companyId", "employeeId"):
            continue  # records under a tenant, or ids of no customer: the API's to answer
        owner = tenant_of(name, value)
        # A company that exists nowhere goes on to the API's own 404; a debtor or employee of
        # no one is refused, as is any id of another customer's or not in the API's form.
        nowhere = name == "companyId" and owner == ""
        if not nowhere and owner not in debtors:
            return False
    return True


def sized(operation: Operation) -> bool:
    """The document lets a client size the operation's page (`pageSize`); three listings of
    the published document take none (a company's period, an employee's document types and
    folders), so no plan can cap them."""
    return any(param.name == "pageSize" for param in operation.query_params)


def served_page_size(served: Served) -> int:
    try:
        raw = parse_query(served.query).get("pageSize")
    except QueryError:
        return 0  # the upstream refuses it: nothing served
    if raw is None:
        return DEFAULT_PAGE_SIZE
    return whole_number(raw) or 0


async def test_clause_3_3_a_encoded_paths_reach_only_the_authorised_operation(
    gateway: Gateway,
    routing_upstream: tuple[RoutingUpstream, str],
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    upstream = routing_upstream[0]
    pool_seed = random.randrange(2**32)
    print(f"token pool seed: {pool_seed}")
    rng = random.Random(pool_seed)
    key = await issue_test_key(sessions, max_page_size=CAP)
    pool: list[tuple[IssuedToken, frozenset[str], frozenset[str]]] = []
    scopes_listed = sorted(
        {scope for operation in OPERATIONS for need in needs(operation) for scope in need}
    )
    for _ in range(TOKENS):
        # Mostly broad grants, so that many requests pass and what they reach is judged.
        most = max(rng.randint(1, len(scopes_listed)) for _ in "ab")
        scopes = frozenset(rng.sample(scopes_listed, most))
        debtors = frozenset(rng.sample(DEBTORS, rng.randint(1, 4)))
        token = await issue_test_token(
            sessions,
            key.application_id,
            debtors=tuple(sorted(debtors)),
            scope=" ".join(scopes),
        )
        pool.append((token, scopes, debtors))
    await wait_for_status(client, f"{gateway.url}/api/none", key.key, 404, token=pool[0][0].token)
    loop = asyncio.get_running_loop()
    reached = [0, 0]  # requests sent, requests the upstream served

    def event_of(response: RawResponse) -> Any:
        request_id = response.headers["x-request-id"]
        return asyncio.run_coroutine_threadsafe(usage_event(sessions, request_id), loop).result()

    @settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data(), which=st.integers(0, TOKENS - 1))
    def property(data: st.DataObject, which: int) -> None:
        token, scopes, debtors = pool[which]
        drawn, target = data.draw(request_target(debtors))
        body = b"{}" if drawn.body_schema is not None else None
        response = raw_get_sync(gateway.url, target, token.headers(key.key), drawn.method, body)
        reached[0] += 1
        label = f"{target!r} with {sorted(scopes)} over {sorted(debtors)}"
        assert response.status != 500, f"{label}: {response.body[:300]!r}"
        served = upstream.served.pop(response.headers.get("x-request-id", ""), None)
        if served is None:
            assert response.status >= 400 or response.status == 0, label
            return
        reached[1] += 1
        match = served.match()
        assert match is not None, f"{label}: served {served.path!r}"
        assert match.operation is not None, f"{label}: served {served.method} {served.path!r}"
        operation = match.operation
        event = event_of(response)
        assert (event.method, event.operation) == (operation.method, operation.template), (
            f"{label}: authorised {event.operation}, served {operation.template}"
        )
        assert allowed(operation, scopes), f"{label}: served {operation.operation_id}"
        assert covered(operation, match.params, debtors), f"{label}: served {match.params}"
        if operation.kind == "list" and sized(operation):
            assert 0 <= served_page_size(served) <= CAP, f"{label}: served {served.query}"

    try:
        await asyncio.to_thread(property)
    finally:
        seed = getattr(property, "_hypothesis_internal_use_generated_seed", None)
        print(f"{reached[1]} of {reached[0]} requests reached the upstream")
        print(f"hypothesis seed: {seed} (rerun with --hypothesis-seed={seed})")
