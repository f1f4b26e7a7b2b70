"""The optional access log (`TERMGATE_ACCESS_LOG`): one line per request, gateway and control plane.

A line names the method, the path, the query with its secrets hidden, the status, the bytes sent,
the duration, the client's address (as the trusted proxies report it), the request id and, on
the gateway, the application and key ids (never the key itself). Values are cut to a bounded
length so a hostile request cannot write a megabyte line.
"""

from __future__ import annotations

import logging
import re

from termgate.core import logs
from termgate.core.proxies import TrustedProxies, effective_client, peer_address

__all__ = ["AccessLog", "clip", "masked_query", "peer_address"]

LOGGER = "termgate.access"
HIDDEN = "***"
MAX_VALUE = 512
# Query parameters whose value is a credential or one-time secret (OAuth codes, tokens, keys,
# passwords, signatures), matched anywhere in the percent-decoded, lower-cased name.
_SECRET_NAME = re.compile(
    r"token|secret|password|passw|pwd|code|key|assertion|signature|sig|session|credential|auth"
    r"|verifier|nonce|otp",
)
_PERCENT = re.compile(r"%([0-9a-fA-F]{2})")


def clip(value: str, limit: int = MAX_VALUE) -> str:
    return value if len(value) <= limit else f"{value[:limit]}…"


def _decoded_name(name: str) -> str:
    return _PERCENT.sub(lambda m: chr(int(m.group(1), 16)), name.replace("+", " ")).lower()


def masked_query(query: str) -> str:
    """The query string as received, with the value of every secret-looking parameter hidden."""
    if not query:
        return ""
    parts = []
    for pair in query.split("&"):
        name, equals, _ = pair.partition("=")
        if equals and _SECRET_NAME.search(_decoded_name(name)):
            parts.append(f"{name}={HIDDEN}")
        else:
            parts.append(pair)
    return clip("&".join(parts))


class AccessLog:
    """Writes the access lines of one process (the gateway's and the control plane's)."""

    def __init__(self, trusted: TrustedProxies | None = None) -> None:
        self.trusted = trusted or TrustedProxies()
        self.logger = logging.getLogger(LOGGER)
        self.logger.setLevel(logging.INFO)  # turned on explicitly: written at any log level

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address: the peer, or what a trusted proxy says it forwarded for."""
        if forwarded_for is None or not self.trusted:
            return peer
        return effective_client(peer, forwarded_for, None, None, self.trusted).address

    def line(
        self,
        *,
        plane: str,
        method: str,
        path: str,
        query: str,
        status: int,
        sent: int,
        duration_ms: float,
        client: str,
        request_id: str,
        application_id: str | None = None,
        key_id: str | None = None,
    ) -> None:
        fields: dict[str, object] = {
            "plane": plane,
            "method": clip(method, 16),
            "path": clip(path),
            "status": status,
            "bytes": sent,
            "duration_ms": round(duration_ms, 2),
            "client_ip": client,
            "request_id": request_id,
        }
        if query:
            fields["query"] = masked_query(query)
        if application_id is not None:
            fields["application_id"] = application_id
        if key_id is not None:
            fields["key_id"] = key_id
        write = logs.direct_writer()
        if write is not None:
            write(LOGGER, "request", fields)
        else:  # logging not configured by termgate (a test's capture): the standard way
            self.logger.info("request", extra=fields)
