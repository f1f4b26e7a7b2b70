"""What the applications' end users and addresses share, for circumvention (clauses 3.3 g, h):
per application how many end users it served, per account the most of its applications that
served one end user, and the accounts that sent from one address for one end user while one of
the two was throttled.

A busy week is tens of millions of (application, end user) pairs. Each distinct end user or
address is kept once, as a number (`PartyNumbers`), and each application's as an array of those
numbers: at 100 million events a month the pass held 3.5 GB as sets of strings per application,
and holds ~250 MB so (docs/performance.md). The sets are made one application, or one account,
at a time and let go.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import cast


@dataclass
class PartyNumbers:
    """The end users (or addresses) each application dealt with, as numbers: one per distinct
    value, however many applications and days name it."""

    number: dict[str, int] = field(default_factory=dict)
    read: defaultdict[str, array[int]] = field(default_factory=lambda: defaultdict(_numbers))

    def add(self, application: str, values: Iterable[str | None]) -> None:
        """Values of the application (repeats welcome: a value each day it was seen)."""
        number = self.number
        given = values if isinstance(values, list) else list(values)
        found = list(map(number.get, given))  # loops in C, not Python: a few times cheaper
        if None in found:  # a value not seen before (or a NULL)
            for value in set(given).difference(number):
                if value is not None:
                    number[value] = len(number)
            found = list(map(number.get, given))
        if None in given:  # a NULL beside the other party's values (an event without one)
            found = [n for n in found if n is not None]
        if found:
            self.read[application].extend(cast(list[int], found))  # every value numbered now

    def of(self, application: str) -> set[int]:
        return set(self.read.get(application, ()))

    def values_of(self, application: str) -> set[str]:
        """The values themselves (for a look at them; the counts need only the numbers)."""
        wanted = self.of(application)
        return {value for value, number in self.number.items() if number in wanted}


def _numbers() -> array[int]:
    return array("i")  # 4 bytes a number: fewer than 2**31 distinct values in a window


@dataclass(frozen=True, slots=True)
class ActiveApplication:
    """One application active in the window, as circumvention judges it."""

    application_id: str
    developer_id: str
    throttled: int
    counts: bool  # it has the policy's `min_requests`: its parties count towards a signal


@dataclass(frozen=True, slots=True)
class SharedParties:
    end_users: dict[str, int]  # application → the distinct end users it served
    most_applications_per_end_user: dict[str, int]  # developer → of its counting applications
    linked_accounts: dict[str, frozenset[str]]  # developer → the other accounts linked to it


def _counting_by_account(applications: Sequence[ActiveApplication]) -> dict[str, list[str]]:
    apps_of: dict[str, list[str]] = defaultdict(list)
    for app in applications:
        if app.counts:
            apps_of[app.developer_id].append(app.application_id)
    return apps_of


def linked_accounts(
    end_users: PartyNumbers,
    addresses: PartyNumbers,
    applications: Sequence[ActiveApplication],
    max_accounts_per_address: float,
) -> dict[str, frozenset[str]]:
    """Per account, the others that sent from one of its addresses for one of its end users,
    where one of the two was throttled in the window. Only counting applications link; an address
    shared by more accounts than `max_accounts_per_address` (a proxy, a cloud NAT) links none,
    and an address alone links nothing (hosts and NATs are shared by strangers)."""
    apps_of = _counting_by_account(applications)
    accounts_at: dict[int, set[str]] = defaultdict(set)
    for developer, apps in apps_of.items():
        for app in apps:
            for address in addresses.of(app):
                accounts_at[address].add(developer)
    throttled = {app.developer_id for app in applications if app.throttled}
    candidates = {
        pair
        for accounts in accounts_at.values()
        if 2 <= len(accounts) <= max_accounts_per_address
        for pair in combinations(sorted(accounts), 2)
        if set(pair) & throttled
    }

    def served_by(account: str) -> set[int]:
        return set().union(*(end_users.of(app) for app in apps_of[account]))

    linked: dict[str, set[str]] = defaultdict(set)
    current, its_end_users = "", set[int]()  # two accounts' end users at a time, at most
    for one, other in sorted(candidates):
        if one != current:
            current, its_end_users = one, served_by(one)
        if not its_end_users.isdisjoint(served_by(other)):
            linked[one].add(other)
            linked[other].add(one)
    return {account: frozenset(others) for account, others in linked.items()}


def shared_parties(
    end_users: PartyNumbers,
    addresses: PartyNumbers,
    applications: Sequence[ActiveApplication],
    max_accounts_per_address: float,
) -> SharedParties:
    """Each application's end users counted, and per account the most of its counting
    applications that served one end user, an account at a time (its applications' end users
    made into sets once, then let go); then the linked accounts."""
    counted: dict[str, int] = {}
    most: dict[str, int] = {}
    of_account: dict[str, list[ActiveApplication]] = defaultdict(list)
    for app in applications:
        of_account[app.developer_id].append(app)
    for developer, apps in of_account.items():
        served = Counter[int]()
        for app in apps:
            held = end_users.of(app.application_id)
            counted[app.application_id] = len(held)
            if app.counts:
                served.update(held)
        if served:
            most[developer] = max(served.values())
    linked = linked_accounts(end_users, addresses, applications, max_accounts_per_address)
    return SharedParties(counted, most, linked)
