"""Token-signing private keys sealed at rest under a key derived from TERMGATE_SECRET_KEY.

HKDF-SHA256 turns the secret key into two values: a 256-bit AES-GCM key that seals each private
JWK, and a short public `seal_id` stored beside every sealed row. The seal id lets a start-up
say "these keys were sealed with another secret key" (rather than "damaged"), and lets
`termgate signing-key rewrap` find the rows a secret-key rotation has to re-seal.

The key id (`kid`) is the AEAD's associated data: a sealed key copied onto another row does not
open. A database dump alone therefore holds no usable signing key; the secret key alone holds
none either.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT = "v1"  # the prefix of a sealed value; a later scheme gets a new one
NONCE_BYTES = 12
_SALT = b"termgate signing-key seal"  # fixed: the secret key is already high-entropy


class SealError(ValueError):
    """A sealed key does not open: sealed with another secret key, or damaged."""


def _derive(secret: str, purpose: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=purpose).derive(
        secret.encode("utf-8")
    )


@dataclass(frozen=True, slots=True)
class KeySeal:
    """Seals and opens private keys with one secret key's derived AES key."""

    seal_id: str
    _key: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, secret: str) -> KeySeal:
        if not secret:
            raise ValueError("the secret key is empty")
        return cls(
            seal_id=_derive(secret, b"seal id v1", 8).hex(),
            _key=_derive(secret, b"aes-256-gcm key v1", 32),
        )

    def seal(self, kid: str, plaintext: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self._key).encrypt(nonce, plaintext.encode("utf-8"), kid.encode("utf-8"))
        return f"{FORMAT}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def open(self, kid: str, sealed: str) -> str:
        """The plaintext of `sealed`; `SealError` (never the value) when it does not open."""
        prefix, dot, body = sealed.partition(".")
        if prefix != FORMAT or not dot:
            raise SealError(f"signing key {kid} is not sealed in a form this termgate knows")
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            opened = AESGCM(self._key).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], kid.encode("utf-8")
            )
            return opened.decode("utf-8")
        except (InvalidTag, binascii.Error, UnicodeError, ValueError):
            raise SealError(f"signing key {kid} does not open with this secret key") from None


@lru_cache(maxsize=8)
def seal_for(secret: str) -> KeySeal:
    """The seal of a secret key, derived once per process."""
    return KeySeal.from_secret(secret)
