"""Clause 3.3 a through the gateway: a chunked request body the server refuses part-way (a bad
chunk) or the client abandons part-way never reaches the upstream as a complete request; the
server's body read ends in ProtocolClosedError, not in an early end the gateway would forward
as the whole body."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.gateway.conftest import gateway_process
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import issue_test_access

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[EchoUpstream, str]]:
    echo = EchoUpstream()
    port = await echo.start()
    yield echo, f"http://127.0.0.1:{port}"
    await echo.close()


async def send_cut(port: int, headers: dict[str, str], tail: bytes) -> bytes:
    """A chunked POST: one good chunk, then `tail`; what the gateway answered (b"" if none)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head = f"POST /api/echo HTTP/1.1\r\nhost: gateway\r\n{lines}transfer-encoding: chunked\r\n"
    writer.write(f"{head}content-type: application/octet-stream\r\n\r\n4\r\ngood\r\n".encode())
    await writer.drain()
    await asyncio.sleep(0.3)  # the request is forwarded, its body under way
    try:
        if tail:
            writer.write(tail)
            await writer.drain()
            return await asyncio.wait_for(reader.read(65536), 10)
        return b""
    finally:
        writer.close()


@pytest.mark.parametrize(
    "tail", [b"zz\r\nmore\r\n0\r\n\r\n", b""], ids=["bad_chunk", "client_left"]
)
async def test_clause_3_3_a_a_body_cut_short_never_reaches_the_upstream_complete(
    database_url: str,
    upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    tail: bytes,
) -> None:
    echo, upstream_url = upstream
    access = await issue_test_access(sessions)
    marker = f"cut-{uuid.uuid4().hex}"
    async with gateway_process(database_url, upstream_url) as gateway:
        port = int(gateway.url.rsplit(":", 1)[1])
        answer = await send_cut(port, {**access.headers, "x-request-id": marker}, tail)
        await asyncio.sleep(0.5)
    if tail:  # refused, not served: the body ended before it was complete
        assert answer.startswith(b"HTTP/1.1 400 "), answer
        assert b'"code":40004' in answer.replace(b" ", b""), answer
    reached = [seen for seen in echo.seen if seen.headers.get("x-client-request-id") == marker]
    assert reached == []
