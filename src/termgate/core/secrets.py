"""Subscription keys: 256 random bits, shown once, stored and looked up by SHA-256.

A fast hash is right here (unlike passwords, which use argon2): a key has full entropy, so the
hash cannot be brute-forced, and the gateway hashes the presented key on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

KEY_PREFIX = "tg_"
_sha256 = hashlib.sha256


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return _sha256(key.encode()).hexdigest()


class KeyHashes:
    """`hash_key` of the keys that were found lately, remembered per worker process: a key is
    sent with every request, and a lookup costs less than a SHA-256.

    The keys are secrets: the memory is small (`capacity` keys of at most `longest` characters;
    when full it starts again), held in this process only, never logged nor shown. Only a key
    the caller `remember`s (one it found) is kept, so unknown keys cannot crowd out known ones.
    """

    __slots__ = ("_hashes", "capacity", "known", "longest")

    def __init__(self, capacity: int = 1024, longest: int = 64) -> None:
        self._hashes: dict[str, str] = {}
        self.capacity = capacity
        self.longest = longest
        # `known(key)`: the hash of a key remembered, or None. The dict's own `get`, called
        # without a Python frame of its own (`remember` empties this same dict, never swaps it).
        self.known: Callable[[str], str | None] = self._hashes.get

    def __repr__(self) -> str:
        return f"KeyHashes({len(self._hashes)} of {self.capacity})"

    def remember(self, key: str, hashed: str) -> None:
        if len(key) > self.longest:
            return
        hashes = self._hashes
        if len(hashes) >= self.capacity:
            hashes.clear()
        hashes[key] = hashed


def display_prefix(key: str) -> str:
    """The first characters, kept to help people tell their keys apart."""
    return key[:10]
