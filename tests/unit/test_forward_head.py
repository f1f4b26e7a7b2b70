"""The request head the gateway writes to the upstream: its own forwarding headers, formatted once
from the public URL, replace whatever `X-Forwarded-*` / `Forwarded` the client sent."""

from __future__ import annotations

import pytest

from termgate.gateway.forward import forwarded_lines, request_head
from tests.unit.builders import ClientRequest, bearer, exchange


def _head(headers: list[tuple[str, str]], public_url: str) -> list[tuple[str, str]]:
    raw, _ = request_head(
        exchange("/api/debtors"), ClientRequest(headers), "127.0.0.1:8001",
        forwarded_lines(public_url),
    )  # fmt: skip
    text = raw.decode("latin-1")
    assert text.endswith("\r\n\r\n")
    lines = text.removesuffix("\r\n\r\n").split("\r\n")
    assert lines[0] == "GET /api/debtors HTTP/1.1"
    return [(name, value) for name, _, value in (line.partition(": ") for line in lines[1:])]


def test_the_upstream_hears_the_gateway_s_public_host_and_proto() -> None:
    head = _head([("accept", "application/json")], "https://api.example.nl")
    assert ("host", "127.0.0.1:8001") in head
    assert ("x-forwarded-host", "api.example.nl") in head
    assert ("x-forwarded-proto", "https") in head
    assert ("x-forwarded-for", "192.0.2.7") in head
    assert ("accept", "application/json") in head


def test_a_public_port_travels_in_the_host_and_credentials_never() -> None:
    head = dict(_head([], "http://user:secret@termgate.test:8443/base/"))
    assert head["x-forwarded-host"] == "termgate.test:8443"
    assert head["x-forwarded-proto"] == "http"
    assert "x-forwarded-port" not in head


def test_the_client_s_forwarding_headers_are_replaced_not_passed_on() -> None:
    spoofed = [
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "gopher"),
        ("x-forwarded-port", "1"),
        ("x-forwarded-prefix", "/elsewhere"),
        ("x-forwarded-server", "evil"),
        ("forwarded", "host=evil.example;proto=http"),
        ("x-forwarded-for", "203.0.113.9"),
    ]
    head = _head(spoofed, "https://api.example.nl")
    forwarding = [(n, v) for n, v in head if n.startswith("x-forwarded-") or n == "forwarded"]
    assert sorted(forwarding) == [
        ("x-forwarded-for", "203.0.113.9, 192.0.2.7"),  # the chain goes on, as before
        ("x-forwarded-host", "api.example.nl"),
        ("x-forwarded-proto", "https"),
    ]


@pytest.mark.parametrize(
    "public_url",
    ["ftp://api.example.nl", "api.example.nl", "https://", "https://a b.example"],
)
def test_a_public_url_that_names_no_http_address_stops_the_gateway(public_url: str) -> None:
    with pytest.raises(ValueError, match="public URL"):
        forwarded_lines(public_url)


def test_clause_3_3_a_the_upstream_hears_only_the_gateway_s_end_user_headers() -> None:
    """The whole head, byte for byte: a client's own X-Termgate-* and credentials stay at the
    gateway, the token's end-user headers take their place, X-Forwarded-For chains on."""
    client = ClientRequest(
        [
            ("accept", "application/json"),
            ("x-termgate-user", "999"),
            ("x-termgate-debtors", "1"),
            ("x-forwarded-for", "203.0.113.9"),
            ("authorization", "Bearer t"),
            ("x-subscription-key", "key"),
            ("x-forwarded-for", "198.51.100.1"),
            ("content-length", "12"),
            ("user-agent", "probe/1"),
        ]
    )
    request = exchange("/api/debtors/7/employees", query="page=2", method="POST")
    request.bearer = bearer()
    request.client_request_id = "client-9"
    raw, framing = request_head(
        request, client, "127.0.0.1:8001", forwarded_lines("https://api.example.nl")
    )
    assert framing == "length"
    assert raw == (
        b"POST /api/debtors/7/employees?page=2 HTTP/1.1\r\nhost: 127.0.0.1:8001\r\n"
        b"accept: application/json\r\ncontent-length: 12\r\nuser-agent: probe/1\r\n"
        b"x-termgate-user: 11\r\nx-termgate-debtors: 7\r\nx-client-request-id: client-9\r\n"
        b"x-request-id: req-1\r\nx-forwarded-for: 198.51.100.1, 203.0.113.9, 192.0.2.7\r\n"
        b"x-forwarded-host: api.example.nl\r\nx-forwarded-proto: https\r\n\r\n"
    )


def test_clause_3_3_a_a_chunked_body_is_framed_by_the_gateway_and_an_empty_length_dropped() -> None:
    client = ClientRequest(
        [("transfer-encoding", "chunked"), ("content-length", "0"), ("accept", "*/*")]
    )
    raw, framing = request_head(exchange("/api/debtors"), client, "up", forwarded_lines("http://a"))
    assert framing == "chunked"
    assert raw == (
        b"GET /api/debtors HTTP/1.1\r\nhost: up\r\naccept: */*\r\ntransfer-encoding: chunked\r\n"
        b"x-request-id: req-1\r\nx-forwarded-for: 192.0.2.7\r\nx-forwarded-host: a\r\n"
        b"x-forwarded-proto: http\r\n\r\n"
    )
