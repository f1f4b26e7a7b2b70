"""Forwarding through a real gateway process: keys (clause 2), headers, bodies, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import free_port
from tests.gateway.conftest import Gateway, gateway_process, wait_for_status
from tests.gateway.published_world import debtor
from tests.support.contract_errors import (
    CONTRACT_MEDIA_TYPE,
    assert_contract_problem,
    error_schema_violations,
)
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import TEST_ISSUER, issue_test_access
from tests.support.processes import PUBLISHED_TENANCY, serving, stop
from tests.support.timing import within


@pytest.fixture(scope="session")
async def gateway(
    database_url: str, echo_upstream: tuple[EchoUpstream, str]
) -> AsyncIterator[Gateway]:
    async with gateway_process(database_url, echo_upstream[1], upstream_timeout="1") as gateway:
        yield gateway


@pytest.fixture
async def credentials(
    gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, str]:
    """A fresh key and token, once the gateway's snapshot has picked them up."""
    access = await issue_test_access(sessions)
    url = f"{gateway.url}/api/echo"
    await wait_for_status(client, url, access.key.key, 200, token=access.token.token)
    return access.headers


async def test_clause_2_request_without_key_is_refused_with_problem(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    response = await client.get(f"{gateway.url}/api/echo")
    assert response.status_code == 401
    assert response.headers["content-type"] == CONTRACT_MEDIA_TYPE
    problem = response.json()
    assert_contract_problem(problem, 401, 40100, "2")
    assert problem["type"] == "authenticationError"
    assert problem["docUrl"] == f"{TEST_ISSUER}/portal/errors#40100"
    assert response.headers["x-request-id"] == problem["instance"]


async def test_clause_2_refusals_take_the_configured_media_type_and_error_page(
    database_url: str, echo_upstream: tuple[EchoUpstream, str], client: httpx.AsyncClient
) -> None:
    settings = {
        "problem_content_type": "application/problem+json",
        "errors_url": "https://developer.example/api/errors",
    }
    async with gateway_process(database_url, echo_upstream[1], **settings) as gateway:
        response = await client.get(f"{gateway.url}/api/echo")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert not error_schema_violations(problem, 401)
    assert (problem["code"], problem["clause"]) == (40100, "2")
    assert problem["docUrl"] == "https://developer.example/api/errors#40100"


async def test_clause_2_unknown_key_is_refused(gateway: Gateway, client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{gateway.url}/api/echo", headers={"X-Subscription-Key": "tg_not-a-real-key"}
    )
    assert response.status_code == 401
    assert response.json()["clause"] == "2"


async def test_clause_2_new_key_works_within_a_second_without_restart(
    gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions)
    url = f"{gateway.url}/api/echo"
    waited = await wait_for_status(client, url, access.key.key, 200, token=access.token.token)
    assert waited < within(1.0)


async def test_forwarded_headers_and_hop_by_hop_removal(
    gateway: Gateway,
    client: httpx.AsyncClient,
    credentials: dict[str, str],
) -> None:
    response = await client.get(
        f"{gateway.url}/api/echo?x=1",
        headers={
            **credentials,
            "X-Request-Id": "trace-123",
            "X-Forwarded-For": "203.0.113.9",
            "Proxy-Authorization": "Basic secret",
            "TE": "trailers",
            "Accept-Language": "nl-NL",
        },
    )
    assert response.status_code == 200
    seen = response.json()["headers"]
    # Clause 4.1: the gateway's own id keys the request; the client's travels beside it.
    assert seen["x-request-id"] != "trace-123"
    assert seen["x-request-id"] == response.headers["x-request-id"]
    assert seen["x-client-request-id"] == "trace-123"
    assert seen["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert seen["accept-language"] == "nl-NL"
    assert "x-subscription-key" not in seen
    assert "authorization" not in seen  # the end user's token ends at the gateway
    assert "proxy-authorization" not in seen
    assert "te" not in seen
    assert response.headers["x-upstream"] == "echo"
    assert "keep-alive" not in response.headers


async def test_clause_3_3_a_upstream_sees_the_token_s_end_user_and_debtors_only(
    gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    access = await issue_test_access(sessions, debtors=("1003", "1001"))
    url = f"{gateway.url}/api/echo"
    await wait_for_status(client, url, access.key.key, 200, token=access.token.token)
    spoofed = {
        **access.headers,
        "X-Termgate-Debtors": "1001,1002,1003,1004,1005",
        "X-Termgate-User": "1",
        "X-Termgate-Anything": "else",
    }
    response = await client.get(url, headers=spoofed)
    assert response.status_code == 200
    seen = response.json()["headers"]
    assert seen["x-termgate-debtors"] == "1001,1003"
    assert seen["x-termgate-user"].isdigit()
    assert seen["x-termgate-user"] != "1"
    assert "x-termgate-anything" not in seen
    assert "authorization" not in seen


async def test_request_body_streams_to_the_upstream(
    gateway: Gateway, client: httpx.AsyncClient, credentials: dict[str, str]
) -> None:

    async def body() -> AsyncIterator[bytes]:
        for index in range(64):
            yield bytes([index]) * 32768

    response = await client.post(f"{gateway.url}/api/echo", headers=credentials, content=body())
    assert response.status_code == 200
    report = response.json()
    assert report["length"] == 64 * 32768
    assert report["chunked"] is True


async def test_response_body_streams_to_the_client(
    gateway: Gateway, client: httpx.AsyncClient, credentials: dict[str, str]
) -> None:
    size = 8 * 1024 * 1024
    received = 0
    async with client.stream(
        "GET", f"{gateway.url}/api/stream?size={size}", headers=credentials
    ) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers
        async for chunk in response.aiter_raw():
            received += len(chunk)
    assert received == size


async def test_slow_upstream_answers_504_not_a_hang(
    gateway: Gateway,
    client: httpx.AsyncClient,
    credentials: dict[str, str],
    echo_upstream: tuple[EchoUpstream, str],
) -> None:
    response = await client.get(f"{gateway.url}/api/slow", headers=credentials)
    assert response.status_code == 504
    assert_contract_problem(response.json(), 504, 50401, "7")
    assert response.json()["type"] == "apiError"
    assert response.elapsed.total_seconds() < 3
    assert_no_internal_address(response, echo_upstream[1])


async def test_unknown_operation_is_a_problem_naming_the_documentation_clause(
    gateway: Gateway, client: httpx.AsyncClient, credentials: dict[str, str]
) -> None:
    headers = credentials
    missing = await client.get(f"{gateway.url}/api/nothing-here", headers=headers)
    assert missing.status_code == 404
    assert_contract_problem(missing.json(), 404, 40401, "3.2")
    assert missing.json()["type"] == "invalidRequestError"  # as the contract's 404 examples
    wrong_method = await client.delete(f"{gateway.url}/api/echo", headers=headers)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET, POST"
    assert_contract_problem(wrong_method.json(), 405, 40501, "3.2")


async def test_clause_7_upstream_unreachable_from_the_start_answers_502(
    database_url: str, client: httpx.AsyncClient
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with gateway_process(database_url, dead) as gateway:
        response = await client.get(f"{gateway.url}/api/echo", headers={"X-Subscription-Key": "x"})
        assert response.status_code == 502
        problem = response.json()
        assert (problem["code"], problem["clause"]) == (50201, "7")
        assert "not been loaded" in problem["detail"]


async def test_clause_7_upstream_gone_after_the_catalog_is_loaded_answers_502(
    database_url: str, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    access = await issue_test_access(sessions, debtors=(debtor(0),))
    port = free_port()
    upstream_url = f"http://127.0.0.1:{port}"
    args = ["-m", "termgate.reference_api", "--port", str(port), "--employees", "20"]
    async with (
        serving(args, f"{upstream_url}/openapi.json") as upstream,
        gateway_process(
            database_url, upstream_url, upstream_timeout="1", tenancy_path=PUBLISHED_TENANCY
        ) as gateway,
    ):
        url = f"{gateway.url}/api/debtors"
        await wait_for_status(client, url, access.key.key, 200, token=access.token.token)
        await asyncio.to_thread(stop, upstream)  # its pooled connections close with it
        responses = [await client.get(url, headers=access.headers) for _ in range(2)]
    for response in responses:
        assert response.status_code == 502, response.text
        assert response.headers["content-type"] == CONTRACT_MEDIA_TYPE
        problem = response.json()
        assert_contract_problem(problem, 502, 50201, "7")
        assert "not been loaded" not in problem["detail"]
        assert_no_internal_address(response, upstream_url)


def assert_no_internal_address(response: httpx.Response, upstream_url: str) -> None:
    """A 502/504 tells the client the request id to quote, never where the upstream lives nor
    how the connection to it failed (clause 7's refusals; the log has that)."""
    problem = response.json()
    host_port = upstream_url.split("://", 1)[1]
    host, _, port = host_port.partition(":")
    for internal in (host_port, host, f":{port}", "connect", "socket", "Errno"):
        assert internal not in problem["detail"], problem["detail"]
        assert internal not in response.text
    assert response.headers["x-request-id"] in problem["detail"]
