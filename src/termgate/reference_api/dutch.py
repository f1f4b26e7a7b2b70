"""Fake Dutch payroll facts: names with tussenvoegsels, addresses, and identifiers that pass their
real checks (IBAN mod-97, BSN 11-proef, KvK, loonheffingennummer).

Names, streets and places are drawn once from a seeded Faker (`nl_NL`) into pools; records then
pick from the pools with their own seeded `random.Random`, which is fast and stays deterministic.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from faker import Faker

POOL_SIZE = 600
DUTCH_BANKS: dict[str, tuple[str, str]] = {
    "ABNA": ("ABNANL2A", "ABN AMRO"),
    "RABO": ("RABONL2U", "Rabobank"),
    "INGB": ("INGBNL2A", "ING Bank"),
    "SNSB": ("SNSBNL2A", "SNS Bank"),
    "ASNB": ("ASNBNL21", "ASN Bank"),
    "TRIO": ("TRIONL2U", "Triodos Bank"),
    "KNAB": ("KNABNL2H", "Knab"),
    "BUNQ": ("BUNQNL2A", "bunq"),
}
NAME_PREFIXES = ("van der ", "van den ", "van de ", "van ", "de ", "den ", "ter ", "te ", "in 't ")
JOB_TITLES = (
    "Administratief medewerker", "Boekhouder", "Salarisadministrateur", "Accountmanager",
    "Magazijnmedewerker", "Chauffeur", "Verkoopmedewerker", "Teamleider", "Software-ontwikkelaar",
    "HR-adviseur", "Monteur", "Klantenservicemedewerker", "Projectleider", "Controller",
    "Receptionist", "Kok", "Schoonmaker", "Verpleegkundige", "Docent", "Operator",
)  # fmt: skip
DEPARTMENTS = (
    "Administratie", "Verkoop", "Inkoop", "Logistiek", "Productie", "Personeelszaken", "ICT",
    "Klantenservice", "Financiën", "Directie", "Marketing", "Facilitair",
)  # fmt: skip
AREA_CODES = (10, 13, 15, 20, 23, 24, 26, 30, 33, 35, 36, 38, 40, 43, 45, 46, 50, 53, 55, 58, 70,
              71, 72, 73, 74, 75, 76, 77, 78, 79)  # two-digit netnummers  # fmt: skip
COMPANY_SUFFIXES = ("B.V.", "B.V.", "B.V.", "V.O.F.", "Holding B.V.")


@dataclass(frozen=True, slots=True)
class Pools:
    male_first_names: tuple[str, ...]
    female_first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[str, ...]
    postcodes: tuple[str, ...]
    company_names: tuple[str, ...]


def _unique(draw: Callable[[], str], count: int) -> tuple[str, ...]:
    values: dict[str, None] = {}
    for _ in range(count * 3):
        values[draw()] = None
        if len(values) >= count:
            break
    return tuple(values)


def build_pools(seed: int, size: int = POOL_SIZE) -> Pools:
    faker = Faker("nl_NL")
    faker.seed_instance(seed)
    return Pools(
        male_first_names=_unique(faker.first_name_male, size),
        female_first_names=_unique(faker.first_name_female, size),
        last_names=_unique(faker.last_name, size),
        streets=_unique(faker.street_name, size),
        cities=_unique(faker.city, size // 3),
        postcodes=tuple(postcode(faker.postcode()) for _ in range(size)),
        company_names=_unique(faker.last_name, size // 4),
    )


def postcode(raw: str) -> str:
    compact = raw.replace(" ", "").upper()
    return f"{compact[:4]} {compact[4:]}"


def split_last_name(full: str) -> tuple[str | None, str]:
    """'van der Berg' → ('van der', 'Berg'): payroll keeps the tussenvoegsel apart."""
    for prefix in NAME_PREFIXES:
        if full.startswith(prefix):
            return prefix.strip(), full[len(prefix) :]
    return None, full


def mailbox(*parts: str | None) -> str:
    """ASCII mailbox name from name parts: 'Ruud', 'van Dijk' → 'ruud.vandijk'."""
    joined = ".".join(part.replace(" ", "").replace("'", "") for part in parts if part)
    return unicodedata.normalize("NFKD", joined).encode("ascii", "ignore").decode().lower()


def phone_number(rng: random.Random, *, mobile: bool) -> str:
    if mobile:
        return f"06{rng.randrange(10**8):08d}"
    return f"0{rng.choice(AREA_CODES)}{rng.randrange(10**7):07d}"


def _iban_number(text: str) -> int:
    return int("".join(str(int(char, 36)) for char in text))


def iban_is_valid(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    if len(compact) < 15 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    return _iban_number(compact[4:] + compact[:4]) % 97 == 1


_BANK_CODES = tuple(DUTCH_BANKS)
_BANK_DIGITS = {bank: "".join(str(int(char, 36)) for char in bank) for bank in _BANK_CODES}
_NL00 = "232100"  # "NL00" as ISO 13616 digits


def dutch_iban(rng: random.Random) -> str:
    """NLkk BANK 0123456789 with correct check digits (ISO 13616 mod 97)."""
    bank = rng.choice(_BANK_CODES)
    account = f"{rng.randrange(10**10):010d}"
    check = 98 - int(f"{_BANK_DIGITS[bank]}{account}{_NL00}") % 97
    return f"NL{check:02d}{bank}{account}"


def bank_of(iban: str) -> tuple[str, str]:
    """(BIC, bank name) of a Dutch IBAN made by `dutch_iban`."""
    return DUTCH_BANKS.get(iban[4:8], ("ABNANL2A", "ABN AMRO"))


def bsn_is_valid(bsn: str) -> bool:
    """The 11-proef: 9·d1 + 8·d2 + … + 2·d8 − d9 ≡ 0 (mod 11)."""
    if len(bsn) != 9 or not bsn.isdigit() or bsn == "000000000":
        return False
    digits = [int(char) for char in bsn]
    total = sum(weight * digit for weight, digit in zip(range(9, 1, -1), digits[:8], strict=True))
    return (total - digits[8]) % 11 == 0


def bsn(rng: random.Random) -> str:
    """Nine digits passing the 11-proef (drawn at random, not issued to anyone)."""
    while True:
        head = [rng.randrange(10) for _ in range(8)]
        if head[0] == 0 and head[1] == 0:
            continue
        remainder = sum(w * d for w, d in zip(range(9, 1, -1), head, strict=True)) % 11
        if remainder < 10:
            return "".join(map(str, head)) + str(remainder)


def kvk_number(rng: random.Random) -> str:
    return f"{rng.randrange(10_000_000, 100_000_000)}"


def payroll_tax_number(rng: random.Random) -> str:
    """A loonheffingennummer: nine digits passing the 11-proef, 'L', a two-digit suffix."""
    return f"{bsn(rng)}L{rng.randrange(1, 3):02d}"
