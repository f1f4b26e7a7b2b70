"""Who the client is behind reverse proxies (`TERMGATE_TRUSTED_PROXIES`): forwarded headers are
believed from trusted peers only, and then only as far as the chain stays trusted."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from termgate.core.proxies import (
    MAX_HOPS,
    Client,
    TrustedProxies,
    effective_client,
    parse_address,
)
from termgate.settings import SettingsError, load_settings, proxy_networks
from tests.support.timing import within

PROXIES = TrustedProxies(proxy_networks("10.0.0.0/8, 127.0.0.1, fd00::/8, ::1"))
NOBODY = TrustedProxies(proxy_networks(""))


def client(
    peer: str,
    chain: str | None = None,
    proto: str | None = None,
    host: str | None = None,
    trusted: TrustedProxies = PROXIES,
) -> Client:
    return effective_client(peer, chain, proto, host, trusted)


def test_an_untrusted_peers_forwarded_headers_are_ignored() -> None:
    spoofed = client("203.0.113.9", "198.51.100.1", "https", "evil.example")
    assert spoofed == Client("203.0.113.9")


def test_by_default_nobody_is_trusted_not_even_loopback() -> None:
    assert not NOBODY
    assert client("127.0.0.1", "198.51.100.1", "https", "a.example", NOBODY) == Client("127.0.0.1")


def test_a_trusted_peer_names_the_client_scheme_and_host() -> None:
    seen = client("10.0.0.1", "198.51.100.1", "https", "api.example.com")
    assert seen == Client("198.51.100.1", "https", "api.example.com")


def test_the_right_most_untrusted_address_is_the_client() -> None:
    # The client wrote "192.0.2.66" itself; the edge proxy appended the address it saw.
    chain = "192.0.2.66, 198.51.100.1, 10.0.0.7"
    assert client("10.0.0.1", chain).address == "198.51.100.1"


def test_a_chain_of_trusted_proxies_only_ends_at_its_left_most_address() -> None:
    assert client("10.0.0.1", "10.1.1.1, 10.2.2.2").address == "10.1.1.1"


def test_several_header_lines_read_as_one_chain() -> None:
    assert client("10.0.0.1", "192.0.2.66,198.51.100.1").address == "198.51.100.1"


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        ("unknown", "10.0.0.1"),  # RFC 7239's obfuscated client: the proxy is all we know
        ("", "10.0.0.1"),
        (" , ", "10.0.0.1"),
        ("192.0.2.66, not-an-ip, 10.0.0.7", "10.0.0.7"),  # nothing left of garbage is believed
        ("999.1.1.1", "10.0.0.1"),
        ("198.51.100.1:4711", "198.51.100.1"),
        ('"198.51.100.1"', "198.51.100.1"),
        ("1.2.3.4\x00", "10.0.0.1"),
    ],
)
def test_malformed_chains_fall_back_to_the_last_trusted_hop(chain: str, expected: str) -> None:
    assert client("10.0.0.1", chain).address == expected


@pytest.mark.parametrize(
    ("peer", "chain", "expected"),
    [
        ("::1", "2001:db8::1", "2001:db8::1"),
        ("::1", "[2001:DB8:0::1]:4711", "2001:db8::1"),  # bracketed, with a port, normalised
        ("fd00::5", "2001:db8::2, fd12::1", "2001:db8::2"),
        ("::ffff:127.0.0.1", "198.51.100.1", "198.51.100.1"),  # IPv4-mapped loopback
        ("::1", "::ffff:198.51.100.1", "198.51.100.1"),
        ("2001:db8::99", "198.51.100.1", "2001:db8::99"),  # an untrusted IPv6 peer
    ],
)
def test_ipv6_peers_and_chains(peer: str, chain: str, expected: str) -> None:
    assert client(peer, chain).address == expected


def test_an_overlong_chain_of_trusted_addresses_never_reaches_the_spoofed_left_end() -> None:
    chain = "192.0.2.66, " + ", ".join(["10.0.0.5"] * (MAX_HOPS * 4))
    assert client("10.0.0.1", chain).address == "10.0.0.5"


def test_huge_headers_cost_bounded_work() -> None:
    chain = ", ".join(["10.0.0.5"] * 200_000)  # about 2 MB
    junk = "a" * 4_000_000
    started = time.perf_counter()
    for _ in range(20):
        assert client("10.0.0.1", chain, chain, chain).address == "10.0.0.5"
        assert client("10.0.0.1", junk, junk, junk) == Client("10.0.0.1")
    # Splitting from the right stops after MAX_HOPS entries: no per-entry cost for the rest.
    assert time.perf_counter() - started < within(2.0)


@pytest.mark.parametrize(
    ("proto", "expected"),
    [("https", "https"), ("HTTPS", "https"), ("http", "http"), ("javascript", None), ("", None)],
)
def test_only_http_or_https_is_taken_as_the_scheme(proto: str, expected: str | None) -> None:
    assert client("10.0.0.1", "198.51.100.1", proto).scheme == expected


def test_scheme_and_host_lists_are_read_at_the_clients_hop() -> None:
    # The edge proxy (10.0.0.7) saw https from the client; the inner one saw http from the edge.
    seen = client(
        "10.0.0.1", "198.51.100.1, 10.0.0.7", "https, http", "api.example.com, internal.lan"
    )
    assert seen == Client("198.51.100.1", "https", "api.example.com")
    # Lists that do not line up with the chain: the right-most entry, the peer's own.
    assert client("10.0.0.1", "198.51.100.1", "http, https").scheme == "https"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("api.example.com", "api.example.com"),
        ("api.example.com:8443", "api.example.com:8443"),
        ("[2001:db8::1]:443", "[2001:db8::1]:443"),
        ("evil.example/path", None),
        ("a b", None),
        ("evil.example\r\nset-cookie: x", None),
        ("x" * 300, None),
        ("", None),
    ],
)
def test_a_forwarded_host_is_taken_only_when_it_is_a_host(host: str, expected: str | None) -> None:
    assert client("10.0.0.1", "198.51.100.1", None, host).host == expected


@given(
    chain=st.text(max_size=200),
    proto=st.text(max_size=20),
    host=st.text(max_size=40),
)
def test_property_an_untrusted_peer_is_always_the_client(chain: str, proto: str, host: str) -> None:
    assert client("203.0.113.9", chain, proto, host) == Client("203.0.113.9")


@given(chain=st.text(max_size=200))
def test_property_a_trusted_peers_answer_is_an_address_of_the_chain_or_the_peer(
    chain: str,
) -> None:
    named = {str(a) for entry in chain.split(",") if (a := parse_address(entry)) is not None}
    assert client("10.0.0.1", chain).address in named | {"10.0.0.1"}


def test_the_setting_takes_addresses_and_networks_of_both_families() -> None:
    networks = proxy_networks(" 10.0.0.0/8,127.0.0.1 ,, ::1, fd00::/8, 192.168.1.7/24")
    assert [str(n) for n in networks] == [
        "10.0.0.0/8",
        "127.0.0.1/32",
        "::1/128",
        "fd00::/8",
        "192.168.1.0/24",
    ]


@pytest.mark.parametrize("value", ["10.0.0.0/33", "proxy.internal", "10.0.0.1 10.0.0.2", "*"])
def test_a_bad_trusted_proxies_setting_fails_naming_the_setting_and_the_entry(value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(trusted_proxies=value)
    message = str(refused.value)
    assert message.startswith("TERMGATE_TRUSTED_PROXIES:")
    assert "is not an IP address or CIDR network" in message
