"""Small shared helpers for building records: dates, names, addresses, money."""

from __future__ import annotations

import random
import unicodedata
from datetime import date
from typing import Any

from termgate.reference_api.pools import Pools

Record = dict[str, Any]

# "Today" of the generated world; fixed so the data does not change with the calendar.
REFERENCE_DATE = date(2026, 4, 1)
_NAME_PREFIXES = ("van der ", "van den ", "van de ", "van ", "de ", "den ", "der ", "ter ", "te ")


def day(rng: random.Random, first: date, last: date) -> date:
    return date.fromordinal(rng.randint(first.toordinal(), last.toordinal()))


def split_last_name(full: str) -> tuple[str | None, str]:
    """'van der Berg' → ('van der', 'Berg'): payroll keeps the prefix (tussenvoegsel) apart."""
    for prefix in _NAME_PREFIXES:
        if full.startswith(prefix):
            return prefix.strip(), full[len(prefix) :]
    return None, full


def formatted_name(initials: str, prefix: str | None, last_name: str) -> str:
    return f"{initials} {prefix} {last_name}" if prefix else f"{initials} {last_name}"


def mailbox(*parts: str) -> str:
    """ASCII mailbox name from name parts: 'Ruud', 'van Dijk' → 'ruud.vandijk'."""
    joined = ".".join(part.replace(" ", "").replace("'", "") for part in parts if part)
    ascii_text = unicodedata.normalize("NFKD", joined).encode("ascii", "ignore").decode()
    return ascii_text.lower()


def address(rng: random.Random, pools: Pools) -> Record:
    return {
        "street": rng.choice(pools.streets),
        "houseNumber": rng.randint(1, 250),
        "houseNumberAddition": rng.choice(("", "", "", "", "A", "B", "bis", "2")) or None,
        "postalCode": rng.choice(pools.postcodes),
        "city": rng.choice(pools.cities),
        "country": "NL",
    }


def phone_number(rng: random.Random, *, mobile: bool) -> str:
    if mobile:
        return f"06-{rng.randrange(10**8):08d}"
    return f"0{rng.randint(10, 79)}-{rng.randrange(10**7):07d}"


def money(amount: float) -> Record:
    return {"amount": round(amount, 2), "currency": "EUR"}
