"""The plan's cap on one response's size (clause 3.3 e: no more data than needed).

The upstream's framing headers end at the upstream client, so the gateway judges the body
itself: it reads ahead up to the cap (at most `READ_AHEAD` bytes) before it sends the head. A
body that ends within the cap is relayed whole; one that passes the cap before the head is sent
is not relayed at all: the client gets a 403 problem (code 40311) asking for a smaller page, and
the upstream connection is closed. Only a cap above `READ_AHEAD` can meet a body that is still
streaming when the head must go; that body is cut off at the cap (the connection is aborted, so
the client sees a truncated response, never a short one that looks whole) and the usage event
carries code 40311.
"""

from __future__ import annotations

import logging
from typing import Any

from termgate.gateway.exchange import CLIENT_CLOSED, Exchange, refuse
from termgate.http_server.request import ProtocolClosedError
from termgate.problems import RESPONSE_TOO_LARGE, ProblemResponse
from termgate.upstream_client.pool import UpstreamConnection, UpstreamError, UpstreamPool

log = logging.getLogger(__name__)

READ_AHEAD = 1 << 20


class ResponseCutOffError(UpstreamError):
    """The streamed body passed the plan's cap after its head was sent."""


async def _read_ahead(connection: UpstreamConnection, cap: int) -> tuple[list[bytes], int, bool]:
    """(chunks, their size, whether the body ended) once it ends, passes the cap or the limit."""
    chunks: list[bytes] = []
    total = 0
    horizon = min(cap, READ_AHEAD)
    chunk: bytes | None = connection.take_body() if connection.body else b""
    while chunk is not None:
        if chunk:
            chunks.append(chunk)
            total += len(chunk)
        if total > horizon:
            return chunks, total, False
        chunk = await connection.next_body()
    return chunks, total, True


def relayed_whole(size: int, cap: int) -> bool:
    """Whether a complete body of `size` bytes goes out whole under `cap` (as `relay_capped`
    would send it: within the cap and the read-ahead)."""
    return size <= cap and size <= READ_AHEAD


def too_large(exchange: Exchange, cap: int) -> ProblemResponse:
    return refuse(
        exchange,
        RESPONSE_TOO_LARGE,
        f"The answer is larger than the {cap} bytes your plan allows in one response; ask for "
        "a smaller page (pageSize) or a narrower selection.",
        maxResponseBytes=cap,
    )


async def relay_capped(
    exchange: Exchange,
    connection: UpstreamConnection,
    protocol: Any,
    headers: list[tuple[str, str]],
    pool: UpstreamPool,
    cap: int,
) -> ProblemResponse | None:
    """Relay the response within `cap` bytes; a problem when it is refused before its head."""
    try:
        chunks, total, ended = await _read_ahead(connection, cap)
    except UpstreamError:
        pool.release(connection)
        raise
    if total > cap:
        pool.release(connection)  # not complete: the pool closes it
        return too_large(exchange, cap)
    if ended:
        pool.release(connection)
        body = b"".join(chunks)
        exchange.bytes_out = len(body)
        protocol.response_bytes(connection.status, headers, body, connection.relayed)
        return None
    stream = protocol.response_stream(connection.status, headers, connection.relayed)
    try:
        for chunk in chunks:
            await stream.send_bytes(chunk)
        exchange.bytes_out = total
        chunk_or_end = await connection.next_body()
        while chunk_or_end is not None:
            room = cap - exchange.bytes_out
            if len(chunk_or_end) > room:
                if room:
                    await stream.send_bytes(chunk_or_end[:room])
                exchange.bytes_out = cap
                exchange.code = RESPONSE_TOO_LARGE.code
                log.warning(
                    "response cut off at the plan's cap of %d bytes (%s)",
                    cap,
                    exchange.request_id,
                    extra={"request_id": exchange.request_id},
                )
                raise ResponseCutOffError(f"response cut off at {cap} bytes")
            exchange.bytes_out += len(chunk_or_end)
            await stream.send_bytes(chunk_or_end)
            chunk_or_end = await connection.next_body()
    except ProtocolClosedError:
        exchange.code = CLIENT_CLOSED  # the client went away mid-body; nothing to answer
    finally:
        pool.release(connection)
    return None
