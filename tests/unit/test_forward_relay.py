"""The upstream's answer as the forward step relays it, over a connection fed canned bytes: the
fields the client may see, and the plan's response cap on an answer already whole in hand."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import orjson
import pytest

from termgate.gateway.forward import open_exchange, relay
from termgate.gateway.traffic import response_cap
from termgate.gateway.traffic.plan_limits import PlanLimits
from termgate.problems import UPSTREAM_ERROR, ProblemResponse
from termgate.upstream_client import pool as upstream_pool
from termgate.upstream_client.pool import UpstreamConnection, UpstreamPool
from tests.support.upstream_head import relayed_fields
from tests.unit.builders import ClientRequest, exchange, grant


class CannedTransport:
    """Answers each request head with `answer`, in one read, as the bench's upstream does."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.protocol: UpstreamConnection | None = None
        self.aborted = False
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        assert self.protocol is not None
        self.protocol.data_received(self.answer)

    def is_closing(self) -> bool:
        return self.aborted

    def abort(self) -> None:
        self.aborted = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class Stream:
    def __init__(self, sent: list[bytes]) -> None:
        self.sent = sent

    async def send_bytes(self, data: bytes) -> None:
        self.sent.append(data)


class ClientProtocol:
    """What the server is asked to send: one whole answer, or a head and streamed pieces."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.whole: bytes | None = None
        self.streamed: list[bytes] = []

    def response_bytes(
        self,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        relayed: Sequence[bytes] = (),
    ) -> None:
        self.status, self.whole = status, body
        self.headers = relayed_fields(relayed) + headers

    def response_stream(
        self, status: int, headers: list[tuple[str, str]], relayed: Sequence[bytes] = ()
    ) -> Stream:
        self.status, self.headers = status, relayed_fields(relayed) + headers
        return Stream(self.streamed)


def answer(body: bytes, *fields: str) -> bytes:
    head = "".join(f"{field}\r\n" for field in fields)
    return f"HTTP/1.1 200 OK\r\n{head}content-length: {len(body)}\r\n\r\n".encode() + body


async def exchanged(upstream_answer: bytes) -> tuple[UpstreamPool, UpstreamConnection, Any]:
    """A pool of one connection whose request got `upstream_answer` back."""
    pool = UpstreamPool("127.0.0.1", 1, max_idle=4, connect_timeout=1.0, timeout=5.0)
    connection = UpstreamConnection(pool)
    transport = CannedTransport(upstream_answer)
    transport.protocol = connection
    connection.connection_made(transport)  # type: ignore[arg-type]
    connection.start(b"GET / HTTP/1.1\r\n\r\n", is_head=False, timeout=pool.timeout)
    await connection.response_ready()
    return pool, connection, transport


async def relayed(upstream_answer: bytes, cap: int | None) -> tuple[ClientProtocol, Any, Any]:
    pool, connection, transport = await exchanged(upstream_answer)
    request = exchange()
    request.grant = grant(limits=response_cap_limits(cap))
    client = ClientProtocol()
    await relay(request, connection, client, pool, {})
    return client, transport, pool


def response_cap_limits(cap: int | None) -> PlanLimits:
    return PlanLimits(max_response_bytes=cap)


async def test_clause_4_1_the_answer_carries_the_gateway_s_request_id_not_the_upstream_s() -> None:
    fields = (
        "Server: up",
        "X-Request-Id: upstream-7",
        "CONNECTION: keep-alive",
        "Date: Sun, 06 Nov 1994 08:49:37 GMT",
        "X-Total: 3",
    )
    for _ in range(2):  # the second time each name is already known
        client, _, _ = await relayed(answer(b"{}", *fields), cap=None)
        assert client.headers == [("Server", "up"), ("X-Total", "3"), ("x-request-id", "req-1")]
        assert client.whole == b"{}"


async def test_clause_4_1_an_upstream_inventing_names_keeps_each_and_grows_no_memo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(upstream_pool, "_FIELD_OPENINGS", {})
    monkeypatch.setattr(upstream_pool, "_FIELD_OPENINGS_KEPT", 4)
    fields = [f"X-Made-Up-{n}: {n}" for n in range(10)]
    client, _, _ = await relayed(answer(b"", *fields, "Keep-Alive: timeout=5"), cap=None)
    assert client.headers[:-1] == [(f"X-Made-Up-{n}", str(n)) for n in range(10)]
    assert len(upstream_pool._FIELD_OPENINGS) == 4


@pytest.mark.parametrize(
    "field",
    [
        b"X-Split: a\rb",
        b"X-Split: a\nSet-Cookie: b=c",
        b"X-Folded: a\r\n b",
        b"X-Nul: a\x00b",
        b"X-Del: a\x7fb",
        b"X Space: a",
        b"X-Colon : a",
    ],
)
async def test_clause_4_1_an_upstream_header_that_could_split_the_answer_is_a_502(
    field: bytes,
) -> None:
    """The upstream's lines are relayed as the bytes it sent; llhttp refuses any that could end
    a line early or smuggle another field in, so none reaches the client (a 502 instead)."""
    body = b"{}"
    upstream_answer = b"HTTP/1.1 200 OK\r\n%b\r\ncontent-length: 2\r\n\r\n%b" % (field, body)
    pool, made = pool_answering(upstream_answer)
    request = exchange()
    opened = await open_exchange(request, ClientRequest([]), pool, "up", "")
    assert isinstance(opened, ProblemResponse)
    assert (opened.status, request.code) == (502, UPSTREAM_ERROR.code)
    assert [transport.aborted for transport in made] == [True]  # never reused


async def test_clause_3_3_e_a_whole_answer_within_the_cap_goes_out_in_one_piece() -> None:
    body = b"x" * 4864
    client, transport, pool = await relayed(answer(body), cap=4864)
    assert (client.status, client.whole, client.streamed) == (200, body, [])
    assert not transport.aborted
    assert pool.take_idle() is not None  # the connection went back to the pool


async def test_clause_3_3_e_a_whole_answer_over_the_cap_is_refused_not_relayed() -> None:
    client, transport, pool = await relayed(answer(b"x" * 4865), cap=4864)
    assert client.status == 403
    assert client.whole is not None
    assert orjson.loads(client.whole)["code"] == 40311
    assert client.streamed == []
    # Read to its end, the answer leaves its connection in step: it is pooled, not closed.
    assert not transport.aborted
    assert pool.take_idle() is not None


async def test_clause_3_3_e_a_whole_answer_past_the_read_ahead_streams_within_its_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(response_cap, "READ_AHEAD", 1000)
    body = b"y" * 1500
    client, transport, _ = await relayed(answer(body), cap=2000)
    assert client.whole is None
    assert b"".join(client.streamed) == body
    assert not transport.aborted


class ClosedWhileIdle(CannedTransport):
    """A pooled connection the upstream closed while it sat idle: the next request finds out."""

    def write(self, data: bytes) -> None:
        assert self.protocol is not None
        self.written.append(data)
        asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)


def pool_answering(answer: bytes) -> tuple[UpstreamPool, list[CannedTransport]]:
    """A pool whose every new connection gets `answer`; the transports of those it made."""
    pool = UpstreamPool("127.0.0.1", 1, max_idle=4, connect_timeout=1.0, timeout=5.0)
    made: list[CannedTransport] = []

    async def connect() -> UpstreamConnection:
        connection = UpstreamConnection(pool)
        transport = CannedTransport(answer)
        transport.protocol = connection
        connection.connection_made(transport)  # type: ignore[arg-type]
        made.append(transport)
        return connection

    pool._connect = connect  # type: ignore[method-assign]
    return pool, made


def pool_with_a_stale_connection(
    fresh_answer: bytes,
) -> tuple[UpstreamPool, ClosedWhileIdle, list[CannedTransport]]:
    """A pool whose one idle connection is dead; new connections get `fresh_answer`."""
    pool, made = pool_answering(fresh_answer)
    stale = UpstreamConnection(pool)
    stale_transport = ClosedWhileIdle(b"")
    stale_transport.protocol = stale
    stale.connection_made(stale_transport)  # type: ignore[arg-type]
    pool._idle.append(stale)
    return pool, stale_transport, made


async def test_clause_7_a_read_retries_once_when_its_pooled_connection_went_stale() -> None:
    pool, stale, connected = pool_with_a_stale_connection(answer(b"[]"))
    opened = await open_exchange(exchange(), ClientRequest([]), pool, "up", "")
    assert isinstance(opened, UpstreamConnection)
    assert (opened.status, opened.reused, len(connected)) == (200, False, 1)
    assert len(stale.written) == 1  # tried first, then once more on a new connection


async def test_clause_7_a_write_with_a_body_is_not_sent_twice_on_a_stale_connection() -> None:
    pool, stale, connected = pool_with_a_stale_connection(answer(b"[]"))
    request = exchange(method="POST")
    opened = await open_exchange(
        request, ClientRequest([("content-length", "2")], b"{}"), pool, "up", ""
    )
    assert isinstance(opened, ProblemResponse)
    assert (opened.status, request.code) == (502, UPSTREAM_ERROR.code)
    assert stale.written[0].startswith(b"POST ")
    assert connected == []
