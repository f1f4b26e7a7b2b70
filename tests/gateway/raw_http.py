"""Requests with an exact request target: HTTP clients normalise paths (dot segments, escapes),
and these tests are about what the gateway does with the target a client really sent."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import UsageEvent


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


async def raw_get(base_url: str, target: bytes, headers: dict[str, str]) -> RawResponse:
    """GET `target` byte for byte (one connection, closed after the answer)."""
    address = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    lines = [b"GET " + target + b" HTTP/1.1", f"host: {address.netloc}".encode()]
    lines += [f"{name}: {value}".encode() for name, value in headers.items()]
    writer.write(b"\r\n".join([*lines, b"connection: close", b"", b""]))
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return _parse(data)


def _parse(data: bytes) -> RawResponse:
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    if "chunked" in parsed.get("transfer-encoding", ""):
        body = _dechunk(body)
    return RawResponse(int(status_line.split()[1]), parsed, body)


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += body[:size]
        body = body[size + 2 :]
    return bytes(out)


async def usage_event(
    sessions: async_sessionmaker[AsyncSession], request_id: str, limit: float = 10.0
) -> UsageEvent:
    """The usage event of `request_id`, once the gateway has written it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        async with sessions() as session:
            found = await session.scalar(
                select(UsageEvent).where(UsageEvent.request_id == request_id)
            )
        if found is not None or loop.time() > deadline:
            assert found is not None, f"no usage event for {request_id}"
            return found
        await asyncio.sleep(0.05)


def raw_get_sync(
    base_url: str,
    target: bytes,
    headers: dict[str, str],
    method: str = "GET",
    body: bytes | None = None,
) -> RawResponse:
    """`raw_get` for code that runs outside the event loop (hypothesis in a worker thread); any
    `method`, with a JSON `body` if given."""
    address = urlsplit(base_url)
    assert address.hostname is not None
    with socket.create_connection((address.hostname, address.port or 80), timeout=10) as sock:
        lines = [method.encode() + b" " + target + b" HTTP/1.1", f"host: {address.netloc}".encode()]
        lines += [f"{name}: {value}".encode() for name, value in headers.items()]
        if body is not None:
            lines += [b"content-type: application/json", b"content-length: %d" % len(body)]
        sock.sendall(b"\r\n".join([*lines, b"connection: close", b"", body or b""]))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return _parse(b"".join(chunks))
