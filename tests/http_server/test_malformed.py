"""Issue 11, clause 3.3 a: a request the server cannot read exactly one way (request smuggling,
malformed framing or head) is refused with a problem and the connection ends; the application
is never called, so the gateway never authorises bytes the upstream could read differently."""

from __future__ import annotations

import time

import pytest

from termgate.http_server import Limits
from tests.http_server.client import Wire
from tests.http_server.conftest import Running

POST = "POST /p HTTP/1.1\r\nhost: t\r\nx-act: body\r\n"
REFUSED = {
    "cl_and_te": POST + "content-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
    "two_content_lengths": POST + "content-length: 5\r\ncontent-length: 6\r\n\r\nhello!",
    "equal_content_lengths": POST + "content-length: 5\r\ncontent-length: 5\r\n\r\nhello",
    "content_length_list": POST + "content-length: 5, 5\r\n\r\nhello",
    "content_length_sign": POST + "content-length: +5\r\n\r\nhello",
    "te_not_chunked_last": POST + "transfer-encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
    "te_gzip_only": POST + "transfer-encoding: gzip\r\n\r\nhello",
    "te_twice": POST + "transfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
    "obs_fold": "GET / HTTP/1.1\r\nhost: t\r\nx-a: one\r\n two\r\n\r\n",
    "space_before_colon": "GET / HTTP/1.1\r\nhost: t\r\nx-a : one\r\n\r\n",
    "bare_lf": "GET / HTTP/1.1\nhost: t\n\n",
    "bare_cr": "GET / HTTP/1.1\rhost: t\r\r\n\r\n",
    "nul_in_value": "GET / HTTP/1.1\r\nhost: t\r\nx-a: a\x00b\r\n\r\n",
    "ctl_in_value": "GET / HTTP/1.1\r\nhost: t\r\nx-a: a\x01b\r\n\r\n",
    "ctl_in_name": "GET / HTTP/1.1\r\nhost: t\r\nx\x01a: b\r\n\r\n",
    "invalid_method": "G@T / HTTP/1.1\r\nhost: t\r\n\r\n",
    "lower_case_method": "get / HTTP/1.1\r\nhost: t\r\n\r\n",
    "http_0_9": "GET /\r\n\r\n",
    "space_in_target": "GET /a b HTTP/1.1\r\nhost: t\r\n\r\n",
    "no_target": "GET  HTTP/1.1\r\nhost: t\r\n\r\n",
    "nul_in_target": "GET /a\x00 HTTP/1.1\r\nhost: t\r\n\r\n",
    "two_hosts": "GET / HTTP/1.1\r\nhost: t\r\nHost: u\r\n\r\n",
    "no_host_on_1_1": "GET / HTTP/1.1\r\nx-a: b\r\n\r\n",
    "chunked_on_1_0": "POST / HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
}
CHUNKED = POST + "transfer-encoding: chunked\r\n\r\n4\r\ngood\r\n"
BAD_CHUNKS = {
    "bad_chunk_size": CHUNKED + "zz\r\nhello\r\n0\r\n\r\n",
    "negative_chunk_size": CHUNKED + "-5\r\nhello\r\n0\r\n\r\n",
    "huge_chunk_size": CHUNKED + "f" * 40 + "\r\nx\r\n",
    "chunk_without_crlf": CHUNKED + "5\r\nhelloX0\r\n\r\n",
}


def refused(ours: Running, data: bytes, status: int) -> None:
    calls = ours.app.calls
    with Wire(ours.port) as wire:
        wire.send(data)
        answer = wire.read()
        assert answer.status == status, answer
        assert answer.header("content-type") == "application/problem+json"
        assert answer.header("connection") == "close"
        problem = answer.json()
        assert problem["status"] == status  # type: ignore[index]
        assert problem["clause"] == ("3.2" if status in (400, 505) else "3.3 f")  # type: ignore[index]
        assert wire.closed()
    assert ours.app.calls == calls


@pytest.mark.parametrize("case", list(REFUSED))
def test_issue_11_clause_3_3_a_malformed_request_is_refused_400_unserved(
    ours: Running, case: str
) -> None:
    refused(ours, REFUSED[case].encode("latin-1"), 400)


@pytest.mark.parametrize("split", [False, True], ids=["one_packet", "bad_chunk_later"])
@pytest.mark.parametrize("case", list(BAD_CHUNKS))
def test_issue_11_clause_3_3_a_a_body_with_bad_framing_is_never_served_cut_short(
    ours: Running, case: str, split: bool
) -> None:
    """The head was good, so the application runs; its read of the body fails at the bad chunk
    instead of ending early, and the answer is the parser's 400, never the cut body's 200."""
    with Wire(ours.port) as wire:
        data = BAD_CHUNKS[case].encode()
        if split:  # the application is already waiting on the body when the bad chunk comes
            wire.send(data[: len(CHUNKED)])
            time.sleep(0.2)
            data = data[len(CHUNKED) :]
        wire.send(data)
        answer = wire.read()
        assert answer.status == 400, answer
        assert answer.header("content-type") == "application/problem+json"
        assert wire.closed()


def test_issue_11_http_2_request_line_is_505(ours: Running) -> None:
    refused(ours, b"GET / HTTP/2.0\r\nhost: t\r\n\r\n", 505)


def test_issue_11_a_request_target_past_max_url_is_414(ours: Running) -> None:
    target = "/" + "a" * Limits().max_url
    refused(ours, f"GET {target} HTTP/1.1\r\nhost: t\r\n\r\n".encode(), 414)


def test_issue_11_more_headers_than_max_headers_is_431(ours: Running) -> None:
    lines = "".join(f"x-{n}: v\r\n" for n in range(Limits().max_headers + 1))
    refused(ours, f"GET / HTTP/1.1\r\nhost: t\r\n{lines}\r\n".encode(), 431)


def test_issue_11_headers_larger_than_max_head_is_431(ours: Running) -> None:
    lines = "".join(f"x-{n}: {'v' * 8000}\r\n" for n in range(9))
    refused(ours, f"GET / HTTP/1.1\r\nhost: t\r\n{lines}\r\n".encode(), 431)


def test_issue_11_a_smuggled_request_after_a_good_one_is_not_served(ours: Running) -> None:
    """The good request is answered, the connection ends at the bad one, nothing after it runs."""
    good = "GET /first HTTP/1.1\r\nhost: t\r\nx-act: early\r\n\r\n"
    smuggle = "GET /x HTTP/1.1\r\nhost: t\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab"
    hidden = "GET /hidden HTTP/1.1\r\nhost: t\r\nx-act: early\r\n\r\n"
    calls = ours.app.calls
    with Wire(ours.port) as wire:
        wire.send((good + smuggle + hidden).encode())
        assert wire.read().body == b"early /first"
        rest = wire.buffer
        assert wire.closed()
        assert b"/hidden" not in rest + wire.buffer
    assert ours.app.calls == calls + 1


def test_issue_11_clause_3_3_a_bytes_after_an_upgrade_request_are_never_served(
    ours: Running,
) -> None:
    """The server speaks no other protocol: the Upgrade request is answered as a plain one and
    the connection ends, so nothing sent after it can pass as a request the gateway did not see
    as one."""
    upgrade = (
        "GET /up HTTP/1.1\r\nhost: t\r\nconnection: upgrade\r\nupgrade: h2c\r\nx-act: early\r\n\r\n"
    )
    hidden = "GET /hidden HTTP/1.1\r\nhost: t\r\nx-act: early\r\n\r\n"
    calls = ours.app.calls
    with Wire(ours.port) as wire:
        wire.send((upgrade + hidden).encode())
        answer = wire.read()
        assert (answer.status, answer.body) == (200, b"early /up")
        assert answer.header("connection") == "close"
        assert wire.closed()
        assert b"/hidden" not in wire.buffer
    assert ours.app.calls == calls + 1


def test_issue_11_an_endless_header_line_is_431_before_it_ends(ours: Running) -> None:
    """httptools joins one header line's pieces until the line ends: the head's raw bytes are
    counted as they arrive, so a line that never ends is refused, not buffered whole."""
    calls = ours.app.calls
    piece = b"v" * 16_384
    with Wire(ours.port) as wire:
        wire.send(b"GET / HTTP/1.1\r\nhost: t\r\nx-long: ")
        sent = 0
        try:
            while sent < 4 * 1024 * 1024 and not wire.closed(timeout=0.01):
                wire.send(piece)
                sent += len(piece)
        except OSError:
            pass  # the server closed while pieces were still going out
        answer = wire.read()
    assert answer.status == 431, answer
    assert sent < 1024 * 1024  # refused within a few reads of the limit, not at the line's end
    assert ours.app.calls == calls


def test_issue_11_a_large_body_before_a_pipelined_head_is_not_counted_as_head(
    ours: Running,
) -> None:
    """The reads that end a body and begin the next head are not counted as that head's."""
    body = b"b" * 400_000
    head = "POST /one HTTP/1.1\r\nhost: t\r\nx-act: body\r\n"
    data = f"{head}content-length: {len(body)}\r\n\r\n".encode() + body
    data += b"GET /two HTTP/1.1\r\nhost: t\r\nx-act: early\r\n\r\n"
    with Wire(ours.port) as wire:
        wire.send(data)
        first, second = wire.read(), wire.read()
    assert first.body.startswith(b"400000:")
    assert second.body == b"early /two"
