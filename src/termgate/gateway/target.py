"""The request target the gateway forwards: exactly the path it matched, in one encoded form.

The server hands the gateway the path already percent-decoded (RSGI has no raw path), and the
upstream decodes what it receives the same way (percent-decoding, then UTF-8). So the gateway
matches the decoded path and forwards it re-encoded: every character outside the unreserved set
becomes `%XX`, and the upstream decodes it back to the very path the gateway authorised (clause
3.3 a: a `%3F` in an id must not turn into a query the upstream serves as another operation).

A decoded path that no client means innocently is refused (clause 3.3 c): `?`, `#`, `\\`,
control characters (CR and LF would split the upstream's request line), the replacement
character of an invalid UTF-8 escape, and dot segments (which proxies and servers may resolve
into another path). A `%2F` cannot be told from a `/` once decoded: it is matched, and
forwarded, as the `/` the upstream will see too.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from termgate.core.memo import Memo

_PLAIN = re.compile(r"[A-Za-z0-9/_.~-]*", re.ASCII)
_REFUSED = re.compile(r"[?#\\\x00-\x1f\x7f-\x9f\ufffd]")
_DOT_SEGMENT = re.compile(r"(?:^|/)\.{1,2}(?:/|$)")
# Kept as sent in a query: the reserved characters, the unreserved ones and escapes (`%`).
_QUERY_KEPT = "!$&'()*+,;=:@/?%[]~-._"
# `checked_path`'s answers for recent paths.
CHECKED: Memo[tuple[str | None, str]] = Memo(capacity=4096, longest=256)


def path_fault(path: str) -> str | None:
    """Why the decoded `path` is refused, or None when it may be matched and forwarded."""
    if not path.startswith("/"):
        return "the path must start with /"
    refused = _REFUSED.search(path)
    if refused is not None:
        return f"the path holds the character U+{ord(refused.group()):04X}"
    if _DOT_SEGMENT.search(path):
        return "the path holds a dot segment (. or ..)"
    return None


def checked_path(path: str) -> tuple[str | None, str]:
    """`path_fault` and `encoded_path` of `path` at once (the fault first; the path itself when
    there is one). Both are pure functions of the path and clients send the same paths again and
    again, so the answers for recent paths are remembered: one dict lookup instead of three
    regular expression scans."""
    known = CHECKED.get(path)
    if known is None:
        fault = path_fault(path)
        known = (fault, path if fault is not None else encoded_path(path))
        CHECKED.remember(path, known)
    return known


def encoded_path(path: str) -> str:
    """The path as sent upstream: each segment percent-encoded outside the unreserved set
    (quote()'s defaults: "/" kept, UTF-8)."""
    return path if _PLAIN.fullmatch(path) else quote(path)


def encoded_query(query: str) -> str:
    """The query as sent upstream: raw non-ASCII, spaces and controls percent-encoded, the rest
    (escapes included) kept, so the upstream's parser reads what the gateway's did."""
    if query.isascii() and query.isprintable() and " " not in query:
        return query
    return quote(query, safe=_QUERY_KEPT)
