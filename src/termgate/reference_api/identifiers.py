"""Dutch identifiers that pass their real checks: IBAN mod-97, BSN 11-proef, KvK, loonheffingen.

All of them are generated from a caller's seeded `random.Random`, so they are fake but stable.
"""

from __future__ import annotations

import random
import uuid

# Bank code → BIC of Dutch banks; the IBAN's bank code must be one the reader recognises.
DUTCH_BANKS: dict[str, str] = {
    "ABNA": "ABNANL2A",
    "RABO": "RABONL2U",
    "INGB": "INGBNL2A",
    "SNSB": "SNSBNL2A",
    "ASNB": "ASNBNL21",
    "TRIO": "TRIONL2U",
    "KNAB": "KNABNL2H",
    "BUNQ": "BUNQNL2A",
}
_BANK_CODES = tuple(DUTCH_BANKS)


def _iban_number(text: str) -> int:
    """The IBAN as the integer ISO 13616 computes mod 97 on (letters as 10..35)."""
    return int("".join(str(int(char, 36)) for char in text))


def iban_is_valid(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    if len(compact) < 15 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    return _iban_number(compact[4:] + compact[:4]) % 97 == 1


def dutch_iban(rng: random.Random) -> tuple[str, str]:
    """A Dutch IBAN (NLkk BANK 0123456789) with correct check digits, and its bank's BIC."""
    bank = rng.choice(_BANK_CODES)
    account = f"{rng.randrange(10**10):010d}"
    check = 98 - _iban_number(f"{bank}{account}NL00") % 97
    return f"NL{check:02d}{bank}{account}", DUTCH_BANKS[bank]


def bsn_is_valid(bsn: str) -> bool:
    """The 11-proef of a burgerservicenummer: 9·d1 + 8·d2 + … + 2·d8 − d9 ≡ 0 (mod 11)."""
    if len(bsn) != 9 or not bsn.isdigit() or bsn == "000000000":
        return False
    digits = [int(char) for char in bsn]
    total = sum(weight * digit for weight, digit in zip(range(9, 1, -1), digits[:8], strict=True))
    return (total - digits[8]) % 11 == 0


def bsn(rng: random.Random) -> str:
    """A nine-digit number passing the 11-proef (fake: drawn at random, not issued to anyone)."""
    while True:
        head = [rng.randrange(10) for _ in range(8)]
        if head[0] == 0 and head[1] == 0:
            continue
        remainder = sum(w * d for w, d in zip(range(9, 1, -1), head, strict=True)) % 11
        if remainder < 10:  # the last digit must equal the weighted sum mod 11
            return "".join(map(str, head)) + str(remainder)


def kvk_number(rng: random.Random) -> str:
    """An eight-digit Chamber of Commerce (KvK) registration number."""
    return f"{rng.randrange(10_000_000, 100_000_000)}"


def payroll_tax_number(rng: random.Random) -> str:
    """A loonheffingennummer: nine digits passing the 11-proef, 'L', a two-digit suffix."""
    return f"{bsn(rng)}L{rng.randrange(1, 3):02d}"


def stable_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
