"""Clause 3.3 f (no unreasonable bandwidth): a client cannot hold the gateway's upstream
connections with bodies it never finishes or with many requests at once; clause 3.2: a body the
operation does not take is refused, not forwarded."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.gateway.conftest import gateway_process
from tests.gateway.limits_support import limited_apps, problem_of
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import issue_test_access

SLOW_CLIENTS = 20


async def _stalled_post(port: int, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    """POST a head announcing 1000 bytes, send 3, and wait for the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        writer.write(
            f"POST /api/echo HTTP/1.1\r\nhost: gateway\r\n{lines}content-length: 1000\r\n"
            "content-type: application/octet-stream\r\n\r\nabc".encode()
        )
        await writer.drain()
        # Well before the upstream timeout (30 s): the body timeout must answer first.
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 15)
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.lower().split(b"\r\n")
            if line.startswith(b"content-length:")
        )
        body = await asyncio.wait_for(reader.readexactly(length), 5)
        return status, orjson.loads(body)
    finally:
        writer.close()


async def test_clause_3_3_f_stalled_request_bodies_are_answered_408_and_free_their_upstream(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    upstream, upstream_url = echo_upstream
    access = await issue_test_access(sessions)
    async with gateway_process(
        database_url, upstream_url, request_body_timeout="1", upstream_timeout="30"
    ) as gateway:
        port = int(gateway.url.rsplit(":", 1)[1])
        url = f"{gateway.url}/api/echo"
        assert (await client.get(url, headers=access.headers)).status_code == 200
        opened = upstream.connections
        answers = await asyncio.gather(
            *(_stalled_post(port, access.headers) for _ in range(SLOW_CLIENTS))
        )
        for status, problem in answers:
            assert status == 408
            assert problem["code"] == 40801
            assert problem["clause"] == "3.3 f"
        # Each stalled request held an upstream connection (the idle one, then new ones);
        # none went back to the pool: the next request needs a fresh one.
        during = upstream.connections
        assert during - opened >= SLOW_CLIENTS - 1
        after = await client.post(url, headers=access.headers, content=b"x" * 1000)
        assert after.status_code == 200
        assert after.json()["length"] == 1000
        assert upstream.connections == during + 1


async def test_clause_3_3_f_requests_under_way_per_application_are_capped(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    capped, other = await limited_apps(sessions, count=2, max_in_flight=2)
    async with gateway_process(database_url, echo_upstream[1], upstream_timeout="2") as gateway:
        slow = f"{gateway.url}/api/slow"
        echo = f"{gateway.url}/api/echo"
        held = [asyncio.create_task(client.get(slow, headers=capped.headers)) for _ in range(2)]
        await asyncio.sleep(0.5)  # both under way, waiting for the upstream
        refused = await client.get(echo, headers=capped.headers)
        neighbour = await client.get(echo, headers=other.headers)  # its own places
        ended = await asyncio.gather(*held)
        # Ended in a 504, whatever the outcome the places are free again.
        after = await client.get(echo, headers=capped.headers)
    problem_of(refused, 429, 42911, "3.3 f")
    assert refused.headers["retry-after"] == "1"
    assert neighbour.status_code == 200
    assert [response.status_code for response in ended] == [504, 504]
    assert after.status_code == 200


async def test_clause_3_2_get_with_a_body_is_refused_not_forwarded(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    upstream, upstream_url = echo_upstream
    access = await issue_test_access(sessions)
    marker = f"get-body-{uuid.uuid4().hex}"
    async with gateway_process(database_url, upstream_url) as gateway:
        url = f"{gateway.url}/api/echo"
        headers = {**access.headers, "X-Request-Id": marker}
        refused = await client.request("GET", url, headers=headers, content=b"abc")
        post = await client.post(url, headers=headers, content=b"abc")  # the API takes one
        plain = await client.get(url, headers=headers)
    problem_of(refused, 400, 40003, "3.2")
    assert post.status_code == 200
    assert plain.status_code == 200
    reached = [seen for seen in upstream.seen if seen.headers.get("x-client-request-id") == marker]
    assert [seen.method for seen in reached] == ["POST", "GET"]
