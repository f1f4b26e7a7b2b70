"""Subscription keys: 256 random bits, shown once, stored and looked up by SHA-256.

A fast hash is right here (unlike passwords, which use argon2): a key has full entropy, so the
hash cannot be brute-forced, and the gateway hashes the presented key on every request.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "tg_"
_sha256 = hashlib.sha256


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return _sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    """The first characters, kept to help people tell their keys apart."""
    return key[:10]
