"""The gateway's upstream connections: reuse, streaming, deadlines and broken upstreams."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import orjson
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


def request_head(path: str, method: str = "GET") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nhost: test\r\n\r\n".encode()


async def exchange(pool: UpstreamPool, path: str, method: str = "GET") -> UpstreamConnection:
    connection = await pool.acquire()
    connection.start(request_head(path, method), is_head=method == "HEAD", timeout=pool.timeout)
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


class RecordingTransport:
    """The connection's real transport, with the bytes written to it noted in order."""

    def __init__(self, inner: asyncio.Transport, written: list[bytes]) -> None:
        self.inner = inner
        self.written = written

    def write(self, data: bytes) -> None:
        self.written.append(data)
        self.inner.write(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def recorded(connection: UpstreamConnection, written: list[bytes]) -> None:
    assert connection.transport is not None
    connection.transport = RecordingTransport(connection.transport, written)  # type: ignore[assignment]


async def test_issue_11_the_heads_of_one_loop_turn_go_out_together_at_its_end(
    echo: tuple[EchoUpstream, int],
) -> None:
    upstream, port = echo
    pool = pool_for(port)
    connections = [await pool._connect() for _ in range(3)]
    written: list[bytes] = []
    heads = [request_head(f"/api/echo?n={number}") for number in range(3)]
    for connection, head in zip(connections, heads, strict=True):
        recorded(connection, written)
        connection.start(head, is_head=False, timeout=pool.timeout)
    assert written == []  # nothing sent while the turn still serves requests
    await asyncio.sleep(0)
    assert written == heads  # one burst, in the order the requests came
    for connection in connections:
        await connection.response_ready()
        assert connection.status == 200
        pool.release(connection)
    assert [seen.path for seen in upstream.seen] == ["/api/echo"] * 3
    await pool.close()


async def test_issue_11_a_body_sent_in_the_turn_of_its_head_follows_the_head(
    echo: tuple[EchoUpstream, int],
) -> None:
    _, port = echo
    pool = pool_for(port)
    connection = await pool.acquire()
    body = b'{"name": "Ada"}'
    head = f"POST /api/echo HTTP/1.1\r\nhost: test\r\ncontent-length: {len(body)}\r\n\r\n"
    connection.start(head.encode(), is_head=False, timeout=pool.timeout)
    await connection.write_body(body)  # before the turn's end: the head must leave first
    await connection.response_ready()
    assert connection.status == 200
    report = orjson.loads(connection.take_body())
    assert report["length"] == len(body)
    assert report["sha256"] == hashlib.sha256(body).hexdigest()
    pool.release(connection)
    await pool.close()


async def test_issue_11_a_head_whose_connection_closed_within_the_turn_is_not_sent(
    echo: tuple[EchoUpstream, int],
) -> None:
    upstream, port = echo
    pool = pool_for(port)
    connection = await pool.acquire()
    written: list[bytes] = []
    recorded(connection, written)
    connection.start(request_head("/api/echo"), is_head=False, timeout=pool.timeout)
    pool.discard(connection)  # the client went away, say
    with pytest.raises(UpstreamError):
        await connection.response_ready()
    assert written == []
    assert upstream.seen == []
    await pool.close()


class BrokenTransport(RecordingTransport):
    def write(self, data: bytes) -> None:
        raise RuntimeError("the transport refused the bytes")


async def test_issue_11_a_head_that_cannot_be_written_fails_its_exchange_alone(
    echo: tuple[EchoUpstream, int],
) -> None:
    upstream, port = echo
    pool = pool_for(port)
    broken, healthy = await pool._connect(), await pool._connect()
    assert broken.transport is not None
    broken.transport = BrokenTransport(broken.transport, [])  # type: ignore[assignment]
    broken.start(request_head("/api/echo?n=1"), is_head=False, timeout=pool.timeout)
    healthy.start(request_head("/api/echo?n=2"), is_head=False, timeout=pool.timeout)
    with pytest.raises(UpstreamError, match="sending the request to the upstream"):
        await broken.response_ready()
    await healthy.response_ready()  # the head after the broken one still went out
    assert healthy.status == 200
    assert [seen.path for seen in upstream.seen] == ["/api/echo"]
    pool.release(healthy)
    await pool.close()
