"""Passwords: argon2id hashes (argon2-cffi's defaults), a minimum length, nothing else stored.

Hashing and verifying take ~200 ms of CPU. Callers on the event loop use `hash_off_loop` and
`verify_off_loop`: the work runs in a worker thread (argon2-cffi releases the GIL), so the
gateway on the same loop keeps answering during a storm of sign-ins. An unknown account (no
stored hash) is verified against a dummy hash, so its answer takes as long as a known one's.
"""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from termgate.registry.errors import RegistryError

MIN_LENGTH = 10
MAX_LENGTH = 1024
_hasher = PasswordHasher()


def check_length(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise RegistryError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise RegistryError(f"a password may have at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    check_length(password)
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("no account has this password")


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True only for the right password; without a stored hash a dummy one takes the time."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


async def hash_off_loop(password: str) -> str:
    check_length(password)  # refused at once, not in a thread
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_off_loop(stored_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(verify_password, stored_hash, password)
