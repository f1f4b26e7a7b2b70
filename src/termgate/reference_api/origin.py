"""The origin (`scheme://host`) the API's absolute links name: the gateway's public address
when a gateway in front of it says so in `X-Forwarded-Host` / `X-Forwarded-Proto`, otherwise the
`Host` the request came with.

Only well-formed values are taken (a host of letters, digits, dots and hyphens with an optional
`:port`; a proto of `http` or `https`): anything else is ignored, never echoed into a link.
"""

from __future__ import annotations

import re

_HOST = re.compile(rb"[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?")
_PROTOS = {b"http": "http", b"https": "https"}


def forwarded_host(value: bytes) -> str | None:
    """`value` of an `X-Forwarded-Host` header if it is one host, else None."""
    return value.decode("ascii") if _HOST.fullmatch(value) else None


def forwarded_proto(value: bytes) -> str | None:
    """`value` of an `X-Forwarded-Proto` header if it is http or https, else None."""
    return _PROTOS.get(value.lower())


def origin(scheme: str, host: str, forwarded_host: str | None, forwarded_proto: str | None) -> str:
    """`scheme://host` of the links, the forwarded values (already checked) before the request's."""
    return f"{forwarded_proto or scheme}://{forwarded_host or host}"
