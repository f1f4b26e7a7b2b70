"""Sessions the server can end: a generation per account, carried in the signed session cookie.

The cookie holds the account's id and its `session_epoch` as at sign-in. Every control-plane
request compares that with the account's current epoch; raising the epoch (sign-out, a new
password, suspension) makes every cookie issued before it worthless, copies included, on every
node, without a table of sessions.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Protocol


class Account(Protocol):
    id: str
    session_epoch: int


def _epoch_key(key: str) -> str:
    return f"{key}:epoch"


def begin_session(cookie: MutableMapping[str, Any], key: str, account: Account) -> None:
    """Signs `account` in under `key` (developer_id, administrator_id, end_user_id)."""
    cookie[key] = account.id
    cookie[_epoch_key(key)] = account.session_epoch


def signed_in_id(cookie: MutableMapping[str, Any], key: str) -> str | None:
    account_id = cookie.get(key)
    return account_id if isinstance(account_id, str) else None


def still_valid(cookie: MutableMapping[str, Any], key: str, account: Account | None) -> bool:
    """The cookie names `account` at its current generation; a stale one is forgotten."""
    if account is not None and cookie.get(_epoch_key(key)) == (account.session_epoch or 0):
        return True
    forget(cookie, key)
    return False


def forget(cookie: MutableMapping[str, Any], key: str) -> None:
    cookie.pop(key, None)
    cookie.pop(_epoch_key(key), None)


def end_every_session(account: Account) -> None:
    """Ends every session of the account, on every device and node."""
    account.session_epoch = (account.session_epoch or 0) + 1
