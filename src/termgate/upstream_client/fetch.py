"""The gateway's own GET requests to the upstream (its OpenAPI document, its companies), made
over the same connection pool as the traffic it forwards."""

from __future__ import annotations

from typing import Any

import orjson

from termgate.upstream_client.pool import UpstreamError, UpstreamPool


async def fetch(pool: UpstreamPool, upstream_host: str, path: str) -> tuple[int, bytes]:
    """The status and the whole body of `GET path`; UpstreamError if the exchange fails."""
    connection = await pool.acquire()
    try:
        head = f"GET {path} HTTP/1.1\r\nhost: {upstream_host}\r\naccept: application/json\r\n\r\n"
        connection.start(head.encode("latin-1"), is_head=False, timeout=pool.timeout)
        await connection.response_ready()
        chunks = [connection.take_body()] if connection.body else []
        while (chunk := await connection.next_body()) is not None:
            chunks.append(chunk)
        return connection.status, b"".join(chunks)
    finally:
        pool.release(connection)


async def fetch_json(pool: UpstreamPool, upstream_host: str, path: str) -> dict[str, Any]:
    """The JSON object `GET path` answers with 200; UpstreamError for any other answer."""
    status, body = await fetch(pool, upstream_host, path)
    if status != 200:
        raise UpstreamError(f"GET {path} answered {status}")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise UpstreamError(f"GET {path} answered with no JSON: {error}") from None
    if not isinstance(document, dict):
        raise UpstreamError(f"GET {path} answered with no JSON object")
    return document
