"""Issue 11, clause 3.3 a: the request head the application sees is the one on the wire and no
more — a chunked body's trailers never join its headers, yet still count against the head's
limits (3.3 f) — and the header names are listed as granian lists them."""

from __future__ import annotations

from tests.http_server.client import request
from tests.http_server.conftest import Running

CHUNKED = (
    "POST /t HTTP/1.1\r\nhost: test\r\nx-act: body-then-echo\r\ntransfer-encoding: chunked\r\n\r\n"
    "5\r\nhello\r\n0\r\n"
)


def test_issue_11_clause_3_3_a_trailers_never_join_the_request_headers(ours: Running) -> None:
    trailers = "authorization: Bearer smuggled\r\nhost: other\r\nx-trailer: t\r\n\r\n"
    answer = request(ours.port, (CHUNKED + trailers).encode())
    assert answer.status == 200
    seen = answer.json()
    assert isinstance(seen, dict)
    assert seen["items"] == [
        ["host", "test"],
        ["x-act", "body-then-echo"],
        ["transfer-encoding", "chunked"],
    ]
    assert seen["get"]["host"] == "test"


def test_issue_11_clause_3_3_f_trailers_past_max_headers_are_431(ours: Running) -> None:
    trailers = "".join(f"x-t{number}: v\r\n" for number in range(100)) + "\r\n"
    answer = request(ours.port, (CHUNKED + trailers).encode())
    assert answer.status == 431
    assert answer.header("content-type") == "application/problem+json"


def test_issue_11_header_names_are_listed_in_first_appearance_as_granian_does(
    ours: Running, granian: int
) -> None:
    head = (
        b"GET / HTTP/1.1\r\nhost: test\r\nx-act: keys\r\nX-B: 1\r\nx-a: 2\r\nx-b: 3\r\n"
        b"Accept: 4\r\n\r\n"
    )
    ours_keys = request(ours.port, head).json()
    assert ours_keys == ["host", "x-act", "x-b", "x-a", "accept"]
    assert ours_keys == request(granian, head).json()
