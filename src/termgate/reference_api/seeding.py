"""A random generator per name (`seeded("7:employee:42")`): the same name gives the same values in
every process. The name is hashed to 64 bits first; seeding from the string itself costs about
three times as much, and a page of records seeds dozens of generators."""

from __future__ import annotations

import hashlib
import random


def seeded(name: str) -> random.Random:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))
