"""Clauses 3.3 a, 3.3 e and 4.6 as one property: the operation the gateway authorises is exactly
the operation the upstream serves.

Requests of every read operation of the reference API, their path parameters drawn from valid
ids, GUIDs, template words, non-ASCII digits, reserved and control characters, each character
sent raw or percent-encoded, with dot segments and odd page sizes, go with a token of randomly
drawn scopes and consent through a real gateway to an upstream that reports the raw target it
received. That target, decoded and routed by the reference API's own router, must be the
operation the gateway recorded in its usage event; and it must be one the token's scopes allow,
over a tenant the consent covers, with a page no larger than the plan's cap.

Hypothesis draws a fresh seed each run (printed below) and keeps failures in its database.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.query import QueryError, parse_query, whole_number
from termgate.reference_api.paging import DEFAULT_PAGE_SIZE
from termgate.reference_api.routes import ROUTES, Route
from tests.gateway.conftest import Gateway, gateway_process, wait_for_status
from tests.gateway.raw_http import RawResponse, raw_get_sync, usage_event
from tests.gateway.routing_upstream import OWNERS, RoutingUpstream, Served
from tests.support.factories import IssuedToken, issue_test_key, issue_test_token

DEBTORS = (1001, 1002, 1003, 1004, 1005)
READS = [route for route in ROUTES if route.method == "GET"]
SCOPES = sorted({alternative[0] for route in READS for alternative in route.scope_alternatives})
CAP = 10
TOKENS = 16
WORDS = ["salaries", "employees", "documents", "companies", "debtors", "info", "api"]
ODD = ["١٠٠١", "²", "１００１", "€", "+2001", " 2001", "2001 ", "0x7d1", "02001", "1_0", ""]
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
        database_url, routing_upstream[1], usage_flush_seconds="0.05"
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
        "debtorId": [str(debtor) for debtor in DEBTORS] + ["1006"],
        "companyId": [str(company) for company in OWNERS] + ["2999"],
    }.get(name, ["1", "7", "42", "doc-1"])


@st.composite
def odd_parameter(draw: st.DrawFn, name: str) -> str:
    ids = valid_ids(name)
    value = draw(
        st.sampled_from(ids).map(lambda value: value + draw(st.sampled_from(RESERVED)))
        | st.sampled_from(ids)
        | st.sampled_from(WORDS)
        | st.sampled_from(ODD)
        | st.uuids().map(str)
        | st.text(alphabet=st.sampled_from(RESERVED + "0123456789az"), min_size=1, max_size=6)
        | st.text(min_size=1, max_size=4)
    )
    encoded = encode(value, draw(st.lists(st.booleans(), max_size=4)))
    return encoded + draw(st.sampled_from(ESCAPES))


@st.composite
def request_target(draw: st.DrawFn, debtors: frozenset[int]) -> tuple[Route, bytes]:
    """Half plain requests (mostly of the consent's tenants, a valid page size), half odd."""
    route = draw(st.sampled_from(READS))
    plain = draw(st.booleans())
    mine = {
        "debtorId": [str(debtor) for debtor in sorted(debtors)],
        "companyId": [str(company) for company, owner in OWNERS.items() if owner in debtors],
    }
    path = route.template
    for name in route.path_params:
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
    return route, target.encode("utf-8")


def allowed(route: Route, scopes: frozenset[str]) -> bool:
    return any(set(alternative) <= scopes for alternative in route.scope_alternatives)


def covered(route: Route, params: tuple[str, ...], debtors: frozenset[int]) -> bool:
    for name, value in zip(route.path_params, params, strict=True):
        canonical = value.isascii() and value.isdigit() and str(int(value)) == value
        if name == "debtorId" and not (canonical and int(value) in debtors):
            return False
        if name == "companyId":  # a company that exists nowhere goes on to the API's own 404
            owner = OWNERS.get(int(value), "nowhere") if canonical else None
            if owner != "nowhere" and owner not in debtors:
                return False
    return True


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
    pool: list[tuple[IssuedToken, frozenset[str], frozenset[int]]] = []
    for _ in range(TOKENS):
        # Mostly broad grants, so that many requests pass and what they reach is judged.
        scopes = frozenset(rng.sample(SCOPES, max(rng.randint(1, len(SCOPES)) for _ in "ab")))
        debtors = frozenset(rng.sample(DEBTORS, rng.randint(1, 4)))
        token = await issue_test_token(
            sessions,
            key.application_id,
            debtors=tuple(map(str, sorted(debtors))),
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
        _, target = data.draw(request_target(debtors))
        response = raw_get_sync(gateway.url, target, token.headers(key.key))
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
        assert match.route is not None, f"{label}: served {served.path!r}"
        operation = match.route
        event = event_of(response)
        assert (event.method, event.operation) == (operation.method, operation.template), (
            f"{label}: authorised {event.operation}, served {operation.template}"
        )
        assert allowed(operation, scopes), f"{label}: served {operation.operation_id}"
        assert covered(operation, match.params, debtors), f"{label}: served {match.params}"
        if operation.kind == "list":
            assert 0 <= served_page_size(served) <= CAP, f"{label}: served {served.query}"

    try:
        await asyncio.to_thread(property)
    finally:
        seed = getattr(property, "_hypothesis_internal_use_generated_seed", None)
        print(f"{reached[1]} of {reached[0]} requests reached the upstream")
        print(f"hypothesis seed: {seed} (rerun with --hypothesis-seed={seed})")
