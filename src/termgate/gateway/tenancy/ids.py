"""How tenant ids are written in paths, and the one canonical form the gateway decides on.

An id's canonical form is the key of every tenant decision. Any spelling the upstream could read
as the same id must either map to the same canonical form or be refused: otherwise `ABC…` could
pass as an unknown id while the upstream serves `abc…`, another customer's. So each form accepts
one strict spelling (case folded where the upstream folds it) and nothing else: no braces, no
GUID without hyphens, no leading zeros, no signs or spaces.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A canonical id, or None when the text is not an id of this form.
Canonical = Callable[[str], str | None]

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_OPAQUE = re.compile(r"[A-Za-z0-9._~-]{1,128}")
MAX_INTEGER_DIGITS = 18  # below 2**63, so no upstream reads it as a different, wrapped number


def uuid_id(raw: str) -> str | None:
    """A GUID in its hyphenated 8-4-4-4-12 form, any case; canonical in lower case."""
    return raw.lower() if _UUID.fullmatch(raw) else None


def integer_id(raw: str) -> str | None:
    """Decimal digits without a leading zero (an upstream parsing `007` would read `7`)."""
    if raw.isascii() and raw.isdigit() and len(raw) <= MAX_INTEGER_DIGITS:
        return raw if raw[0] != "0" or raw == "0" else None
    return None


def opaque_id(raw: str) -> str | None:
    """Unreserved URL characters, compared exactly: for upstreams that never fold ids."""
    return raw if _OPAQUE.fullmatch(raw) else None


ID_FORMS: dict[str, Canonical] = {"uuid": uuid_id, "integer": integer_id, "opaque": opaque_id}
