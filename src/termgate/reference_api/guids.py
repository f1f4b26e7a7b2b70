"""Identifiers that are GUIDs (version 4 layout) and still name what they identify.

A GUID carries 120 bits: a kind (8 bits) and three numbers (40, 36 and 36 bits), scrambled by a
four-round Feistel network keyed by the seed (a scrambler, not a cipher). The GUIDs look random
and differ per seed, yet an employee's GUID decodes back to its index without a table of 100,000
GUIDs in memory; a GUID not made here decodes to nothing (its spare bits or kind do not match).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from enum import IntEnum

_HALF = 60
_MASK = (1 << _HALF) - 1
_ROUNDS = 4
_WORD = (1 << 64) - 1


class Kind(IntEnum):
    DEBTOR = 1
    COMPANY = 2
    EMPLOYEE = 3
    RECORD = 4  # a generated record: (owner, collection, position)
    TASK = 5  # a document task: (owner, document kind, year·100 + period)
    CREATED = 6  # a record a write created: (owner, collection, sequence)
    USER = 7


@dataclass(frozen=True, slots=True)
class Decoded:
    kind: int
    a: int
    b: int
    c: int


class GuidCodec:
    def __init__(self, seed: int) -> None:
        self._keys = [
            int.from_bytes(hashlib.blake2b(f"{seed}:{n}".encode(), digest_size=8).digest(), "big")
            for n in range(_ROUNDS)
        ]

    def _round(self, number: int, half: int) -> int:
        # splitmix64's finaliser: a few integer operations, well mixed
        value = ((half ^ self._keys[number]) * 0x9E3779B97F4A7C15) & _WORD
        value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _WORD
        value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _WORD
        return (value ^ (value >> 31)) & _MASK

    def encode(self, kind: int, a: int = 0, b: int = 0, c: int = 0) -> str:
        plain = (kind << 112) | (a << 72) | (b << 36) | c
        left, right = plain >> _HALF, plain & _MASK
        for number in range(_ROUNDS):
            left, right = right, left ^ self._round(number, right)
        block = (left << _HALF) | right
        # 48 bits | version 4 | 12 bits | variant 10 | 2 spare zero bits | 60 bits
        high, middle, low = block >> 72, (block >> 60) & 0xFFF, block & _MASK
        value = (high << 80) | (4 << 76) | (middle << 64) | (0b10 << 62) | low
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def decode(self, text: str) -> Decoded | None:
        try:
            value = uuid.UUID(text).int
        except ValueError:
            return None
        if (value >> 76) & 0xF != 4 or (value >> 60) & 0xF != 0b1000:
            return None
        block = ((value >> 80) << 72) | (((value >> 64) & 0xFFF) << 60) | (value & _MASK)
        left, right = block >> _HALF, block & _MASK
        for number in reversed(range(_ROUNDS)):
            left, right = right ^ self._round(number, left), left
        plain = (left << _HALF) | right
        return Decoded(
            plain >> 112,
            (plain >> 72) & ((1 << 40) - 1),
            (plain >> 36) & ((1 << 36) - 1),
            plain & ((1 << 36) - 1),
        )
