"""The gateway's upstream connections: reuse, streaming, deadlines and broken upstreams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from termgate.upstream_client.pool import (
    UpstreamConnection,
    UpstreamError,
    UpstreamPool,
    UpstreamTimeoutError,
)
from tests.conftest import free_port
from tests.support.echo_upstream import EchoUpstream
from tests.support.upstream_head import relayed_fields


@pytest.fixture
async def echo() -> AsyncIterator[tuple[EchoUpstream, int]]:
    upstream = EchoUpstream()
    port = await upstream.start()
    yield upstream, port
    await upstream.close()


def pool_for(port: int, timeout: float = 5.0) -> UpstreamPool:
    return UpstreamPool("127.0.0.1", port, max_idle=4, connect_timeout=1.0, timeout=timeout)


async def exchange(pool: UpstreamPool, path: str, method: str = "GET") -> UpstreamConnection:
    connection = await pool.acquire()
    head = f"{method} {path} HTTP/1.1\r\nhost: test\r\n\r\n".encode()
    connection.start(head, is_head=method == "HEAD", timeout=pool.timeout)
    await connection.response_ready()
    return connection


async def test_keep_alive_connection_is_reused(echo: tuple[EchoUpstream, int]) -> None:
    upstream, port = echo
    pool = pool_for(port)
    for _ in range(5):
        connection = await exchange(pool, "/api/echo")
        assert connection.status == 200
        assert connection.complete
        connection.take_body()
        pool.release(connection)
    assert upstream.connections == 1
    await pool.close()


async def test_hop_by_hop_and_framing_headers_are_dropped(echo: tuple[EchoUpstream, int]) -> None:
    _, port = echo
    pool = pool_for(port)
    connection = await exchange(pool, "/api/echo")
    names = {name.lower() for name, _ in relayed_fields(connection.relayed)}
    assert "x-upstream" in names
    assert not names & {"keep-alive", "content-length", "connection"}
    pool.release(connection)
    await pool.close()


async def test_large_body_streams_in_pieces(echo: tuple[EchoUpstream, int]) -> None:
    _, port = echo
    pool = pool_for(port)
    size = 5 * 1024 * 1024
    connection = await exchange(pool, f"/api/stream?size={size}")
    received = len(connection.take_body()) if connection.body else 0
    pieces = 1
    while (chunk := await connection.next_body()) is not None:
        received += len(chunk)
        pieces += 1
    assert received == size
    assert pieces > 2
    pool.release(connection)
    await pool.close()


async def test_silent_upstream_hits_the_deadline(echo: tuple[EchoUpstream, int]) -> None:
    _, port = echo
    pool = pool_for(port, timeout=0.3)
    started = asyncio.get_running_loop().time()
    with pytest.raises(UpstreamTimeoutError):
        await exchange(pool, "/api/slow")
    assert asyncio.get_running_loop().time() - started < 2.0
    await pool.close()


async def test_closed_port_is_an_upstream_error() -> None:
    pool = pool_for(free_port())
    with pytest.raises(UpstreamError, match="cannot connect"):
        await pool.acquire()
    await pool.close()


async def test_head_response_completes_without_a_body(echo: tuple[EchoUpstream, int]) -> None:
    _, port = echo
    pool = pool_for(port)
    connection = await exchange(pool, "/api/echo", method="HEAD")
    assert connection.complete
    pool.release(connection)
    follow_up = await exchange(pool, "/api/echo")
    assert follow_up.status == 200
    assert follow_up.complete
    pool.release(follow_up)
    await pool.close()
