"""Issue 11: a connection's life — deadlines for a slow head and an idle connection,
keep-alive, pipelining in order, HTTP/1.0, an unread body, Expect: 100-continue."""

from __future__ import annotations

import time

from termgate.http_server import Limits
from tests.http_server.apps import App
from tests.http_server.client import Wire, get
from tests.http_server.conftest import TEST_LIMITS, Running, serve_in_thread


def test_issue_11_a_slow_head_is_answered_408_after_head_timeout(ours: Running) -> None:
    calls = ours.app.calls
    with Wire(ours.port) as wire:
        started = time.monotonic()
        wire.send(b"GET / HTTP/1.1\r\nhost: t\r\n")
        for _ in range(3):  # a byte now and then does not extend the deadline
            time.sleep(0.3)
            wire.send(b"x")
        answer = wire.read()
        waited = time.monotonic() - started
        assert answer.status == 408
        assert answer.header("content-type") == "application/problem+json"
        assert wire.closed()
    assert TEST_LIMITS.head_timeout <= waited < TEST_LIMITS.head_timeout + 2.5
    assert ours.app.calls == calls


def test_issue_11_an_idle_keep_alive_connection_ends_after_keepalive_timeout(
    ours: Running,
) -> None:
    with Wire(ours.port) as wire:
        wire.send(get("/", "x-act: early"))
        assert wire.read().status == 200
        started = time.monotonic()
        assert wire.closed(timeout=TEST_LIMITS.keepalive_timeout + 3)
        waited = time.monotonic() - started
    assert TEST_LIMITS.keepalive_timeout - 0.1 <= waited < TEST_LIMITS.keepalive_timeout + 2.5


def test_issue_11_pipelined_requests_are_answered_in_order(ours: Running) -> None:
    slow = get("/s?0.3", "x-act: sleep")
    data = slow + get("/two", "x-act: early") + get("/three", "x-act: early")
    with Wire(ours.port) as wire:
        wire.send(data)
        bodies = [wire.read().body for _ in range(3)]
        assert not wire.closed(timeout=0.2)
    assert bodies == [b"slept", b"early /two", b"early /three"]


def test_issue_11_http_1_0_without_keep_alive_closes(ours: Running) -> None:
    with Wire(ours.port) as wire:
        wire.send(get("/", "x-act: early", version="1.0"))
        answer = wire.read()
        assert answer.status == 200
        assert answer.header("connection") == "close"
        assert wire.closed()


def test_issue_11_http_1_0_with_keep_alive_stays_open(ours: Running) -> None:
    with Wire(ours.port) as wire:
        for _ in range(2):
            wire.send(get("/", "x-act: early", "connection: keep-alive", version="1.0"))
            answer = wire.read()
            assert answer.header("connection") == "keep-alive"
        assert not wire.closed(timeout=0.2)


def test_issue_11_connection_close_is_honoured(ours: Running) -> None:
    with Wire(ours.port) as wire:
        wire.send(get("/", "x-act: early", "connection: close") + get("/no", "x-act: early"))
        answer = wire.read()
        assert answer.body == b"early /"
        assert answer.header("connection") == "close"
        assert wire.closed()
        assert b"/no" not in wire.buffer


def post(target: str, body: bytes, *headers: str) -> bytes:
    lines = [f"POST {target} HTTP/1.1", "host: t", f"content-length: {len(body)}", *headers]
    return "\r\n".join([*lines, "", ""]).encode() + body


def test_issue_11_an_unread_body_is_drained_and_the_connection_reused(ours: Running) -> None:
    with Wire(ours.port) as wire:
        wire.send(post("/one", b"a" * 100_000, "x-act: early"))
        assert wire.read().body == b"early /one"
        wire.send(get("/two", "x-act: early"))
        assert wire.read().body == b"early /two"


def test_issue_11_an_unread_body_past_1_mib_closes_the_connection(ours: Running) -> None:
    head = "POST /big HTTP/1.1\r\nhost: t\r\ncontent-length: 3000000\r\nx-act: early\r\n\r\n"
    with Wire(ours.port) as wire:
        wire.send(head.encode())
        assert wire.read().body == b"early /big"
        try:
            for _ in range(30):
                wire.send(b"z" * 100_000)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert wire.closed()


def test_issue_11_expect_100_continue_is_sent_when_the_body_is_read(ours: Running) -> None:
    head = "POST /r HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\nexpect: 100-continue\r\n"
    with Wire(ours.port) as wire:
        wire.send((head + "x-act: body\r\n\r\n").encode())
        assert wire.read().status == 100
        wire.send(b"hello")
        assert wire.read().body == b"5:hello"


def test_issue_11_expect_100_continue_is_not_sent_when_the_body_is_not_read(
    ours: Running,
) -> None:
    head = "POST /r HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\nexpect: 100-continue\r\n"
    with Wire(ours.port) as wire:
        wire.send((head + "x-act: early\r\n\r\n").encode())
        answer = wire.read()
        assert answer.status == 200
        assert answer.body == b"early /r"


def test_issue_11_a_slow_head_behind_a_pipelined_answer_still_gets_head_timeout() -> None:
    """The head that began while the one before was answered has head_timeout from that answer,
    not the (longer) keep-alive time."""
    limits = Limits(head_timeout=0.5, keepalive_timeout=30.0)
    running, thread = serve_in_thread(App(), limits)
    try:
        with Wire(running.port) as wire:
            wire.send(get("/s?0.2", "x-act: sleep") + b"GET / HTTP/1.1\r\nhost: t\r\n")
            assert wire.read().body == b"slept"
            started = time.monotonic()
            assert wire.read().status == 408
            assert time.monotonic() - started < 3.0
            assert wire.closed()
    finally:
        running.loop.call_soon_threadsafe(running.loop.stop)
        thread.join(10)


def test_issue_11_a_body_past_max_body_is_413_and_the_connection_ends(ours: Running) -> None:
    size = TEST_LIMITS.max_body + 1
    with Wire(ours.port) as wire:
        wire.send(post("/big", b"b" * size, "x-act: body"))
        answer = wire.read()
        assert answer.status == 413
        assert answer.header("content-type") == "application/problem+json"
        assert wire.closed()


def test_issue_11_an_expect_100_request_answered_unread_closes_the_connection(
    ours: Running,
) -> None:
    """The client may never send the body it announced: what follows cannot be told apart from
    it, so the connection ends with the answer (RFC 9110 10.1.1)."""
    head = "POST /r HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\nexpect: 100-continue\r\n"
    with Wire(ours.port) as wire:
        wire.send((head + "x-act: early\r\n\r\n").encode())
        answer = wire.read()
        assert answer.header("connection") == "close"
        assert wire.closed()
