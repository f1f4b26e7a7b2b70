"""Circumvention's questions about the parties applications share (clauses 3.3 g, h), answered
in the database: per application, how many end users it served in the window; per account, the
most of its applications that served one end user; and the accounts that sent from one address
for one end user while one of the two was throttled.

A week of a busy API is tens of millions of (application, end user) pairs. Moved into Python
sets, as they were until 2026-12, they took 3.5 GB and most of a pass's 13 s at 100 million
events a month (docs/performance.md). Here the database dedupes them, a group of accounts at a
time so that each query's hash table stays small, and only counts and the linked pairs of
accounts come back. The pairs are read as the other circumvention reads are: the window's whole
UTC days from the daily parties (`db/usage_parties.py`), its cut days from the events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Select,
    String,
    column,
    false,
    func,
    intersect,
    literal,
    select,
    union,
    union_all,
    values,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from termgate.db.models import UsageEvent
from termgate.db.usage_daily import whole_days
from termgate.db.usage_parties import ADDRESS, END_USER, Party, UsageDailyParty
from termgate.monitoring.window import Window

PARTY_COLUMNS: dict[Party, InstrumentedAttribute[str | None]] = {
    END_USER: UsageEvent.end_user_id,
    ADDRESS: UsageEvent.client_ip,
}
# A group's applications' requests in the window bound the pairs its query dedupes (an event
# names one end user): about 100 MB of hash table at most on PostgreSQL. A group's applications
# are bound parameters three times over (the daily parties and the two cut days).
PAIRS_PER_QUERY = 1_000_000
APPLICATIONS_PER_QUERY = 2_000


@dataclass(frozen=True, slots=True)
class ActiveApplication:
    """One application active in the window, as circumvention judges it."""

    application_id: str
    developer_id: str
    requests: int
    throttled: int
    counts: bool  # it has the policy's `min_requests`: its parties count towards a signal


@dataclass(frozen=True, slots=True)
class SharedParties:
    end_users: dict[str, int]  # application → the distinct end users it served
    most_applications_per_end_user: dict[str, int]  # developer → of its counting applications
    linked_accounts: dict[str, frozenset[str]]  # developer → the other accounts linked to it


def parties_read(
    party: Party, window: Window, applications: Sequence[str] | None = None
) -> Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]]:
    """The distinct (application_id, value) pairs of `party` in the window, of `applications`
    (None: every application's)."""
    days, edges = whole_days(window.start, window.end)
    event_column = PARTY_COLUMNS[party]
    reads: list[Select[*tuple[Any, ...]]] = []
    for first, last in edges:
        read = select(UsageEvent.application_id, event_column.label("value")).where(
            UsageEvent.at >= first,
            UsageEvent.at < last,
            UsageEvent.application_id.is_not(None),
            event_column.is_not(None),
        )
        if applications is not None:
            read = read.where(UsageEvent.application_id.in_(applications))
        reads.append(read)
    if days is not None:
        read = select(UsageDailyParty.application_id, UsageDailyParty.value).where(
            UsageDailyParty.party == party,
            UsageDailyParty.day >= days[0],
            UsageDailyParty.day < days[1],
        )
        if applications is not None:
            read = read.where(UsageDailyParty.application_id.in_(applications))
        reads.append(read)
    if len(reads) > 1:
        return union(*reads)
    if reads:
        return reads[0].distinct()
    return select(UsageDailyParty.application_id, UsageDailyParty.value).where(false())  # empty


def _groups(applications: Sequence[ActiveApplication]) -> Iterator[list[ActiveApplication]]:
    """The applications in groups of whole accounts, each within the bounds above (an account
    beyond them is a group of its own)."""
    of: dict[str, list[ActiveApplication]] = defaultdict(list)
    for app in applications:
        of[app.developer_id].append(app)
    group: list[ActiveApplication] = []
    pairs = 0
    for apps in of.values():
        size = sum(app.requests for app in apps)
        if group and (
            pairs + size > PAIRS_PER_QUERY or len(group) + len(apps) > APPLICATIONS_PER_QUERY
        ):
            yield group
            group, pairs = [], 0
        group += apps
        pairs += size
    if group:
        yield group


async def _end_users_of_group(
    session: AsyncSession, window: Window, group: list[ActiveApplication]
) -> tuple[dict[str, int], dict[str, int]]:
    """Per application of the group, its distinct end users; per account of it with two or
    more counting applications, the most of those that served one end user."""
    pairs = parties_read(END_USER, window, [app.application_id for app in group]).cte("pairs")
    per_application = select(
        literal("application", String).label("kind"),
        pairs.c.application_id.label("id"),
        func.count().label("number"),
    ).group_by(pairs.c.application_id)
    counting: dict[str, list[str]] = defaultdict(list)
    for app in group:
        if app.counts:
            counting[app.developer_id].append(app.application_id)
    owners = [(app, developer) for developer, apps in counting.items() if len(apps) >= 2
              for app in apps]  # fmt: skip
    query: Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]] = per_application
    if owners:
        owner = values(
            column("application_id", String), column("developer_id", String), name="owners"
        ).data(owners).cte("owners")
        per_end_user = (
            select(owner.c.developer_id, func.count().label("applications"))
            .select_from(pairs.join(owner, owner.c.application_id == pairs.c.application_id))
            .group_by(owner.c.developer_id, pairs.c.value)
            .subquery()
        )
        most = select(
            literal("developer", String).label("kind"),
            per_end_user.c.developer_id.label("id"),
            func.max(per_end_user.c.applications).label("number"),
        ).group_by(per_end_user.c.developer_id)
        query = union_all(per_application, most)
    end_users: dict[str, int] = {}
    most_of: dict[str, int] = {}
    for kind, found, number in (await session.execute(query)).all():
        (end_users if kind == "application" else most_of)[str(found)] = int(number)
    return end_users, most_of


async def _addresses_of_several(session: AsyncSession, window: Window) -> dict[str, list[str]]:
    """Per address used by two or more applications in the window, those applications."""
    pairs = parties_read(ADDRESS, window).cte("address_pairs")
    several = select(pairs.c.value).group_by(pairs.c.value).having(func.count() >= 2)
    query = select(pairs.c.value, pairs.c.application_id).where(pairs.c.value.in_(several))
    found: dict[str, list[str]] = defaultdict(list)
    for address, application in (await session.execute(query)).all():
        found[str(address)].append(str(application))
    return found


async def _serve_one_end_user(
    session: AsyncSession, window: Window, first: list[str], second: list[str]
) -> bool:
    """Whether an application of `first` and one of `second` served a common end user."""
    common = intersect(
        select(parties_read(END_USER, window, first).subquery().c.value),
        select(parties_read(END_USER, window, second).subquery().c.value),
    ).limit(1)
    return (await session.execute(common)).first() is not None


async def linked_accounts(
    session: AsyncSession,
    window: Window,
    applications: Sequence[ActiveApplication],
    max_accounts_per_address: float,
) -> dict[str, frozenset[str]]:
    """Per account, the others that sent from one of its addresses for one of its end users,
    where one of the two was throttled in the window. Only counting applications link; an address
    shared by more accounts than `max_accounts_per_address` (a proxy, a cloud NAT) links none."""
    owner = {app.application_id: app.developer_id for app in applications if app.counts}
    apps_of: dict[str, list[str]] = defaultdict(list)
    for application, developer in owner.items():
        apps_of[developer].append(application)
    throttled = {app.developer_id for app in applications if app.throttled}
    candidates: set[tuple[str, str]] = set()
    for apps in (await _addresses_of_several(session, window)).values():
        accounts = sorted({owner[app] for app in apps if app in owner})
        if 2 <= len(accounts) <= max_accounts_per_address:
            candidates |= {
                (one, other) for one, other in combinations(accounts, 2) if {one, other} & throttled
            }
    linked: dict[str, set[str]] = defaultdict(set)
    for one, other in sorted(candidates):
        if await _serve_one_end_user(session, window, apps_of[one], apps_of[other]):
            linked[one].add(other)
            linked[other].add(one)
    return {account: frozenset(others) for account, others in linked.items()}


async def shared_parties(
    session: AsyncSession,
    window: Window,
    applications: Sequence[ActiveApplication],
    max_accounts_per_address: float,
) -> SharedParties:
    end_users: dict[str, int] = {}
    most: dict[str, int] = {}
    for group in _groups(applications):
        counted, most_of = await _end_users_of_group(session, window, group)
        end_users |= counted
        most |= most_of
    for app in applications:  # an account's one counting application: 1 if it served anyone
        if app.counts and end_users.get(app.application_id) and app.developer_id not in most:
            most[app.developer_id] = 1
    linked = await linked_accounts(session, window, applications, max_accounts_per_address)
    return SharedParties(end_users, most, linked)
