"""Who the client is behind reverse proxies: the trusted-proxies rule (`TERMGATE_TRUSTED_PROXIES`).

A request's TCP peer is the client unless the peer is a trusted proxy. Then its
`X-Forwarded-For` chain is read from the right (each proxy appends the address it received the
request from) and the first address that is not itself a trusted proxy is the client; an address
further left was written by that client and proves nothing. `X-Forwarded-Proto` and
`X-Forwarded-Host` are taken from a trusted peer only, and only when well-formed.

Only the `X-Forwarded-*` family is read, not RFC 7239's `Forwarded`: a proxy that writes one
family passes the other through from the client unchanged, so reading both would let a client
choose the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

# Hops of a chain looked at, at most: a header of any size costs a bounded amount of work.
MAX_HOPS = 32
# Longer than any address with brackets, a zone and a port: not parsed at all.
MAX_ADDRESS = 100
# Longer `X-Forwarded-For` chains are resolved each time rather than remembered.
MAX_CACHED_CHAIN = 256
HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?"
)


def parse_address(text: str) -> Address | None:
    """An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`,
    `[2001:db8::1]:443`, possibly quoted; None when it is anything else."""
    if len(text) > MAX_ADDRESS:
        return None
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The networks whose requests may name another client; built once from the setting
    (`settings.proxy_networks`)."""

    __slots__ = ("_trusts", "networks")

    def __init__(self, networks: tuple[Network, ...] = ()) -> None:
        self.networks = networks
        # Peers are few (the proxies and the odd direct client): remember each answer.
        self._trusts = lru_cache(maxsize=4096)(self._contains)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def _contains(self, address: Address) -> bool:
        return any(address in network for network in self.networks)

    def trusts(self, address: Address) -> bool:
        return bool(self.networks) and self._trusts(address)


@dataclass(frozen=True, slots=True)
class Client:
    """The effective client of a request: its address, and the scheme and host it used when a
    trusted proxy said so (None: the request's own)."""

    address: str
    scheme: str | None = None
    host: str | None = None


def _from_chain(chain: str, peer: Address, trusted: TrustedProxies) -> tuple[Address, int]:
    """The client in an `X-Forwarded-For` chain received from the trusted `peer`, and its
    position counted from the right (0: the right-most entry)."""
    entries = chain.rsplit(",", MAX_HOPS)
    client, position = peer, -1
    for index, entry in enumerate(reversed(entries)):
        if index == MAX_HOPS:
            break  # the unread rest of an overlong chain: the last trusted hop stands
        address = parse_address(entry)
        if address is None:
            break  # not an address ("unknown", garbage): nothing to its left can be believed
        client, position = address, index
        if not trusted.trusts(address):
            break
    return client, position


def _pick(values: str | None, position: int) -> str | None:
    """The entry of an `X-Forwarded-Proto`/`-Host` list that belongs to the client's hop: the
    same position from the right as in the chain when it has one, else the right-most."""
    if not values:
        return None
    entries = values.rsplit(",", MAX_HOPS)
    index = position if 0 <= position < len(entries) else 0
    return entries[-1 - index].strip()


def effective_client(
    peer: str,
    forwarded_for: str | None,
    forwarded_proto: str | None,
    forwarded_host: str | None,
    trusted: TrustedProxies,
) -> Client:
    """Who sent the request that `peer` (the TCP peer's address) delivered, with the headers
    it carried (None when absent; several lines of one header joined with commas)."""
    peer_address = parse_address(peer)
    if peer_address is None or not trusted.trusts(peer_address):
        return Client(str(peer_address) if peer_address is not None else peer)
    client, position = peer_address, -1
    if forwarded_for:
        client, position = _from_chain(forwarded_for, peer_address, trusted)
    scheme = _pick(forwarded_proto, position)
    if scheme is not None:
        scheme = scheme.lower()
        if scheme not in ("http", "https"):
            scheme = None
    host = _pick(forwarded_host, position)
    if host is not None and (len(host) > 261 or not HOST.fullmatch(host)):
        host = None
    return Client(str(client), scheme, host)


def peer_address(client: str) -> str:
    """The address of an RSGI `host:port` peer (`[::1]:5000` gives `::1`)."""
    host = client.rpartition(":")[0] if ":" in client else client
    return host.removeprefix("[").removesuffix("]")


class ClientAddresses:
    """The client address of each request, for its usage event and access line: the RSGI peer
    (`host:port`), or behind a trusted proxy the address its `X-Forwarded-For` names.

    Peers and chains repeat (the proxies' keep-alive connections, the same clients), so each
    answer is remembered: the request path pays one cache lookup, not the parsing. Without
    trusted proxies `peer` answers from the peer alone and the header is not even read.
    """

    __slots__ = ("_chains", "_limit", "forwarded", "peer", "trusted")

    def __init__(self, trusted: TrustedProxies | None = None, limit: int = 45) -> None:
        self.trusted = trusted or TrustedProxies()
        self.forwarded = bool(self.trusted)  # whether X-Forwarded-For is read at all
        self._limit = limit
        self.peer = lru_cache(maxsize=4096)(self._of_peer)
        self._chains = lru_cache(maxsize=4096)(self._resolve)

    def of(self, peer: str, forwarded_for: str | None = None) -> str | None:
        """The client's address (cut to `limit` characters), None when the server named none."""
        if forwarded_for is None or not self.forwarded:
            return self.peer(peer)
        if len(forwarded_for) > MAX_CACHED_CHAIN:
            return self._resolve(peer, forwarded_for)  # not kept: the cache stays small
        return self._chains(peer, forwarded_for)

    def _of_peer(self, peer: str) -> str | None:
        return peer_address(peer)[: self._limit] or None

    def _resolve(self, peer: str, forwarded_for: str) -> str | None:
        address = effective_client(peer_address(peer), forwarded_for, None, None, self.trusted)
        return address.address[: self._limit] or None
