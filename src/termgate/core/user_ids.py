"""How the upstream's end-user ids are written: opaque strings with one canonical spelling.

termgate stores which upstream account each end user is (`end_users.upstream_id`), puts it in
the access token (`uid` claim) and sends it to the upstream in `X-Termgate-User`, which answers
per-user operations (the published contract's `GET /api/user/info`) for that account. The id is
not a tenant: no tenant decision compares it; the upstream answers for it. What matters is that
the value can never be read as anything else on the wire: an id is 1 to 128 visible ASCII
characters other than a comma, so no CR, LF, space, control character or list separator can
reach a header. A GUID is canonical in lower case (the published contract's upstream folds it, so
`ABC…` and `abc…` must be the same end user, not two); any other id is kept as written.

Tokens issued while ids were integers carry an integer `uid`; it is read as its decimal string.
"""

from __future__ import annotations

import re

from termgate.core.tenant_ids import clipped, uuid_id

MAX_USER_ID_LENGTH = 128
# Visible ASCII (0x21-0x7e) without the comma (0x2c).
_USER_ID = re.compile(rf"[\x21-\x2b\x2d-\x7e]{{1,{MAX_USER_ID_LENGTH}}}")
MAX_INTEGER_BITS = 420  # every int of up to 126 digits; longer ones are refused as too long


class UserIdError(ValueError):
    """A value that is not an upstream user id; the message names it and says why."""


def canonical_user_id(value: object) -> str:
    """The canonical upstream user id of `value`: a string of the allowed characters (a GUID in
    lower case), or an int (how ids were written before they were strings) as its decimal
    string; UserIdError for anything else (bool, float, empty, too long, a forbidden
    character)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MAX_INTEGER_BITS:  # before str(), which refuses huge ints
            raise UserIdError(f"{_shown(value)} is not an upstream user id: it is too long")
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise UserIdError(
            f"{_shown(value)} is not an upstream user id (neither a string nor an integer)"
        )
    if not _USER_ID.fullmatch(text):
        raise UserIdError(f"{_shown(value)} is not an upstream user id: {_why(text)}")
    return uuid_id(text) or text


def _why(text: str) -> str:
    if not text:
        return "it is empty"
    if len(text) > MAX_USER_ID_LENGTH:
        return f"it is longer than {MAX_USER_ID_LENGTH} characters"
    return "only visible ASCII characters other than a comma are allowed (no spaces or CR/LF)"


def _shown(value: object) -> str:
    if isinstance(value, int) and value.bit_length() > MAX_INTEGER_BITS:
        return "a huge integer"
    return clipped(repr(value))
