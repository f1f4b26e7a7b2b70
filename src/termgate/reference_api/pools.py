"""Pools of Dutch names, streets and places drawn once from Faker's `nl_NL` locale.

Calling Faker per field costs tens of microseconds; drawing the pools once from a seeded Faker and
then picking from them with a seeded `random.Random` keeps 100,000 employees within seconds while
every name, street and city stays one Faker produced for the seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from faker import Faker

POOL_SIZE = 600

JOB_TITLES = (
    "Administratief medewerker",
    "Boekhouder",
    "Salarisadministrateur",
    "Accountmanager",
    "Magazijnmedewerker",
    "Chauffeur",
    "Verkoopmedewerker",
    "Teamleider",
    "Software-ontwikkelaar",
    "HR-adviseur",
    "Monteur",
    "Klantenservicemedewerker",
    "Projectleider",
    "Controller",
    "Receptionist",
    "Kok",
    "Schoonmaker",
    "Verpleegkundige",
    "Docent",
    "Operator",
)

COLLECTIVE_AGREEMENTS = (
    "Geen cao",
    "Cao Metalektro",
    "Cao Horeca",
    "Cao Bouw & Infra",
    "Cao Detailhandel",
    "Cao Kinderopvang",
    "Cao Beroepsgoederenvervoer",
    "Cao Zorg en Welzijn",
)

COMPANY_SUFFIXES = ("B.V.", "B.V.", "B.V.", "V.O.F.", "Holding B.V.")


@dataclass(frozen=True, slots=True)
class Pools:
    """What the generators pick from; every tuple was produced by one seeded Faker."""

    male_first_names: tuple[str, ...]
    female_first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[str, ...]
    postcodes: tuple[str, ...]
    company_names: tuple[str, ...]
    email_domains: tuple[str, ...]


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
        postcodes=tuple(_format_postcode(faker.postcode()) for _ in range(size)),
        company_names=_unique(faker.last_name, size // 4),
        email_domains=("gmail.com", "hotmail.com", "outlook.com", "ziggo.nl", "kpnmail.nl"),
    )


def _format_postcode(raw: str) -> str:
    compact = raw.replace(" ", "")
    return f"{compact[:4]} {compact[4:]}"
