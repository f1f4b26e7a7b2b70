"""How many records each generated collection holds: drawn per owner from the seed, so an id's
position can be checked against it without generating the collection."""

from __future__ import annotations

from functools import lru_cache

from termgate.reference_api.seeding import seeded

# How many records a collection holds (inclusive range), by name; others use the owner's default.
SIZES: dict[str, tuple[int, int]] = {
    "children": (0, 2), "leasecars": (0, 1), "employeeabsencedossiers": (0, 1),
    "employeeparentalleaves": (0, 1), "employeeleaverequests": (0, 3), "extrafields": (0, 2),
    "employments": (1, 1), "info": (1, 1), "privateinfos": (1, 1), "wagetaxsettings": (1, 1),
    "labouragreementsettings": (1, 1), "period": (1, 1), "debtors/info": (1, 1),
    "accountantcontact": (1, 1), "salaries": (1, 3), "contracts": (1, 2), "runs": (3, 6),
    "wagetaxes": (3, 6), "salarytables": (1, 3), "salarytableversions": (1, 3),
    "employeesvwsettings": (1, 1), "schedules": (1, 2), "addresses": (1, 2),
}  # fmt: skip
DEFAULT_SIZES = {"employee": (1, 2), "company": (3, 8), "debtor": (3, 6), "api": (4, 8)}


@lru_cache(maxsize=65536)
def count(seed: int, owner_kind: str, owner: int, collection: str) -> int:
    low, high = SIZES.get(collection.lower(), DEFAULT_SIZES[owner_kind])
    return seeded(f"{seed}:count:{owner_kind}:{owner}:{collection}").randint(low, high)
