"""How tenant ids are written, and the one canonical form every tenant decision compares.

An id's canonical form is the key of every tenant decision. Any spelling the upstream could read
as the same id must either map to the same canonical form or be refused: otherwise `ABC…` could
pass as an unknown id while the upstream serves `abc…`, another customer's. So each form accepts
one strict spelling (case folded where the upstream folds it) and nothing else: no braces, no
GUID without hyphens, no leading zeros, no signs or spaces.

Debtor ids (the tenants a consent names, clause 3.3 a) are opaque strings to termgate: a GUID
(the published contract), canonical in lower case, or a decimal integer (the older reference
API's `1001`), canonical without leading zeros. Nothing else is a debtor id: not a comma, a
space, a control character or an empty string, so no listing of ids can be read as a wider one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# A canonical id, or None when the text is not an id of this form.
Canonical = Callable[[str], str | None]

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_OPAQUE = re.compile(r"[A-Za-z0-9._~-]{1,128}")
MAX_INTEGER_DIGITS = 18  # below 2**63, so no upstream reads it as a different, wrapped number
MAX_SHOWN = 40  # characters of a refused id quoted back in an error message


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


class TenantIdError(ValueError):
    """A value that is not a debtor id; the message names it."""


def debtor_id(raw: str) -> str | None:
    """A debtor id's canonical form (a lower-case GUID or a decimal integer), else None."""
    return uuid_id(raw) or integer_id(raw)


def canonical_debtor_id(value: object) -> str:
    """The canonical debtor id of `value`: a string in either form, or a non-negative int (how
    ids were written before they were strings); TenantIdError for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        canonical = integer_id(str(value)) if value >= 0 else None
    elif isinstance(value, str):
        canonical = debtor_id(value)
    else:
        canonical = None
    if canonical is None:
        raise TenantIdError(f"{_shown(value)} is not a customer account id")
    return canonical


def debtor_order(canonical: str) -> tuple[int, int, str]:
    """Sort key: integer ids in numeric order, then GUIDs."""
    return (0, len(canonical), canonical) if canonical.isdigit() else (1, 0, canonical)


def canonical_debtor_ids(values: Iterable[object]) -> tuple[str, ...]:
    """Distinct canonical debtor ids of `values`, sorted; TenantIdError names the first value
    that is not one."""
    return tuple(sorted({canonical_debtor_id(value) for value in values}, key=debtor_order))


def debtor_listing(values: Iterable[object]) -> str:
    """Debtor ids as stored and sent (`X-Termgate-Debtors`): canonical, sorted, comma-separated."""
    return ",".join(canonical_debtor_ids(values))


def clipped(text: str) -> str:
    """`text` as an error message quotes it back: at most MAX_SHOWN characters."""
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _shown(value: object) -> str:
    return clipped(repr(value))
