"""Issue 11: the answers' framing — HEAD and 204/304 without a body, streams chunked on 1.1 and
delimited by the close on 1.0, no response splitting, failures as problems or cut streams, one
Date header — and client disconnects without tracebacks."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.http_server.client import Wire, get, request
from tests.http_server.conftest import Running


def test_issue_11_head_has_no_body_but_the_length_of_get(ours: Running) -> None:
    with Wire(ours.port) as wire:
        wire.send(get("/h", "x-act: early").replace(b"GET", b"HEAD", 1))
        answer = wire.read(head=True)
        assert answer.header("content-length") == str(len(b"early /h"))
        wire.send(get("/next", "x-act: early"))  # a body after HEAD would land here
        assert wire.read().body == b"early /next"


@pytest.mark.parametrize("status", [204, 304])
def test_issue_11_204_and_304_have_no_body_and_no_length(ours: Running, status: int) -> None:
    with Wire(ours.port) as wire:
        wire.send(get(f"/?{status}", "x-act: status"))
        answer = wire.read()
        assert answer.status == status
        assert answer.header("content-length") is None
        assert answer.header("transfer-encoding") is None
        wire.send(get("/next", "x-act: early"))
        assert wire.read().body == b"early /next"


def test_issue_11_a_stream_is_chunked_on_http_1_1(ours: Running) -> None:
    with Wire(ours.port) as wire:
        wire.send(get("/", "x-act: stream"))
        answer = wire.read()
        assert answer.chunked
        assert answer.chunks == [b"one,", b"two,", b"three"]
        assert answer.header("content-length") is None
        assert not wire.closed(timeout=0.2)


@pytest.mark.parametrize("act", ["relayed", "relayed-stream"])
def test_issue_11_relayed_lines_go_out_as_given_before_the_answer_s_own(
    ours: Running, act: str
) -> None:
    with Wire(ours.port) as wire:
        wire.send(get("/", f"x-act: {act}"))
        answer = wire.read()
        assert answer.headers[:3] == [
            ("x-upstream", "one"),
            ("content-type", "text/plain; charset=\xe9"),  # the byte as sent (latin-1)
            ("x-request-id", "r-1"),
        ]
        assert len(answer.all("date")) == 1  # the server's own: a proxy relays none
        assert answer.body == b"relayed"
        wire.send(get("/next", "x-act: early"))  # the framing held: the next answer is whole
        assert wire.read().body == b"early /next"


def test_issue_11_a_stream_is_delimited_by_the_close_on_http_1_0(ours: Running) -> None:
    with Wire(ours.port) as wire:
        wire.send(get("/", "x-act: stream", "connection: keep-alive", version="1.0"))
        answer = wire.read()
        assert not answer.chunked
        assert answer.header("connection") == "close"
        assert answer.body == b"one,two,three"


def test_issue_11_a_stream_to_head_has_no_body(ours: Running) -> None:
    with Wire(ours.port) as wire:
        wire.send(get("/", "x-act: stream").replace(b"GET", b"HEAD", 1))
        assert wire.read(head=True).status == 200
        wire.send(get("/next", "x-act: early"))
        assert wire.read().body == b"early /next"


def test_issue_11_an_answer_header_with_a_line_break_is_500_not_split(ours: Running) -> None:
    with Wire(ours.port) as wire:
        wire.send(get("/", "x-act: split"))
        answer = wire.read()
        assert answer.status == 500
        assert answer.header("set-cookie") is None
        assert answer.header("content-type") == "application/problem+json"
        assert wire.closed()
        assert b"stolen" not in wire.buffer


def test_issue_11_an_application_failing_before_answering_is_a_500_problem(
    ours: Running,
) -> None:
    answer = request(ours.port, get("/", "x-act: fail-before"))
    assert answer.status == 500
    assert answer.header("content-type") == "application/problem+json"
    assert "boom" not in answer.body.decode()


def test_issue_11_an_application_failing_mid_stream_cuts_the_connection(ours: Running) -> None:
    with Wire(ours.port) as wire:
        wire.send(get("/", "x-act: fail-mid"))
        assert wire.closed()
        # No last chunk: the client sees the answer cut short.
        assert wire.buffer.endswith(b"\r\n\r\n7\r\npartial\r\n"), wire.buffer


def test_issue_11_an_application_that_does_not_answer_is_a_500(ours: Running) -> None:
    answer = request(ours.port, get("/", "x-act: silent"))
    assert answer.status == 500
    assert answer.header("content-type") == "application/problem+json"


def test_issue_11_one_date_header_and_the_applications_wins(ours: Running) -> None:
    assert len(request(ours.port, get("/", "x-act: early")).all("date")) == 1
    dated = request(ours.port, get("/", "x-act: date"))
    assert dated.all("date") == ["Tue, 01 Jan 2030 00:00:00 GMT"]


def events(ours: Running) -> list[str]:
    return request(ours.port, get("/", "x-act: events")).json()  # type: ignore[return-value]


def wait_for(ours: Running, event: str, count: int) -> None:
    deadline = time.monotonic() + 5
    while events(ours).count(event) < count:
        assert time.monotonic() < deadline, events(ours)
        time.sleep(0.05)


def test_issue_11_a_client_leaving_mid_stream_raises_protocol_closed_quietly(
    ours: Running,
) -> None:
    before = events(ours).count("ProtocolClosedError")
    tracebacks = len(ours.log.tracebacks())
    with Wire(ours.port) as wire:
        wire.send(get("/", "x-act: endless"))
        wire.sock.recv(65536)
    wait_for(ours, "ProtocolClosedError", before + 1)
    assert len(ours.log.tracebacks()) == tracebacks


def test_issue_11_client_disconnect_returns_when_the_client_leaves(ours: Running) -> None:
    before = events(ours).count("disconnected")
    with Wire(ours.port) as wire:
        wire.send(get("/", "x-act: wait-disconnect"))
        time.sleep(0.1)
    wait_for(ours, "disconnected", before + 1)


def test_issue_11_a_client_leaving_mid_body_is_no_traceback(ours: Running) -> None:
    tracebacks = len(ours.log.tracebacks())
    with Wire(ours.port) as wire:
        wire.send(b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\nx-act: body\r\n\r\nab")
        time.sleep(0.1)
    time.sleep(0.2)
    assert len(ours.log.tracebacks()) == tracebacks
    assert (
        httpx.get(f"http://127.0.0.1:{ours.port}/", headers={"x-act": "early"}).status_code == 200
    )
