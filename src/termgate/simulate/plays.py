"""Behaviours turned into requests: each behaviour is an actor, a generator that yields the next
thing its client does (a call, a sign-in, a new key) at a simulated time and receives the outcome.
The runner plays every actor in the order of their times, so clients react to what the gateway
answers (a throttled harvester waits its `Retry-After`, a key multiplier switches keys).
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from termgate.simulate.scenarios import Behaviour, Scenario

DAY = 86_400.0
PAGE = 100
MAX_NEW_KEYS = 4  # keys a key multiplier has regenerated in one burst


@dataclass(frozen=True)
class Call:
    """A GET through the gateway by one application (`app`, its key `key`) for the consenting
    login `login` (`token`: "valid", "garbage" or "none")."""

    at: float
    app: int
    path: str
    login: int = 0
    key: int = 0
    token: str = "valid"


@dataclass(frozen=True)
class SignIn:
    """An attempt at the end users' sign-in page during the application's authorization."""

    at: float
    app: int
    username: str
    password: str


@dataclass(frozen=True)
class NewKey:
    """The developer has the application's key regenerated (a new key beside the old ones)."""

    at: float
    app: int


@dataclass(frozen=True)
class Burst:
    """GETs by one application sent all at once, each under way at the same time."""

    at: float
    app: int
    paths: tuple[str, ...]


Step = Call | SignIn | NewKey | Burst


@dataclass(frozen=True)
class Outcome:
    status: int  # of a burst: the highest
    retry_after: float = 0.0  # seconds, when throttled
    statuses: tuple[int, ...] = ()  # of a burst: each request's


Actor = Generator[Step, Outcome, None]


@dataclass(frozen=True)
class Reach:
    """What a scenario's logins let it see, and what lies outside it (for probing)."""

    debtors: tuple[str, ...]  # in the consents
    companies: dict[str, tuple[str, ...]]  # debtor → its companies
    employees: dict[str, tuple[str, ...]]  # company → its employees
    foreign_debtors: tuple[str, ...]
    foreign_companies: tuple[str, ...]
    foreign_employees: tuple[str, ...]
    usernames: tuple[str, ...]  # the world's logins (a credential stuffer's list)
    apps: int = 1  # the scenario's applications
    # Each id in reach (debtor, company, employee) → the consenting login whose token covers it.
    covered_by: dict[str, int] = field(default_factory=dict)

    def login_for(self, path: str) -> int:
        """The login a multi-customer client uses for `path`: the one whose consent covers the
        customer the path names (the first login for paths naming none, or a foreign one)."""
        for segment in path.split("?", 1)[0].split("/"):
            if segment in self.covered_by:
                return self.covered_by[segment]
        return 0

    def all_companies(self) -> list[str]:
        return [c for d in self.debtors for c in self.companies[d]]

    def all_employees(self) -> list[str]:
        return [e for c in self.all_companies() for e in self.employees[c]]


def active_days(behaviour: Behaviour, start: datetime, days: int) -> list[int]:
    found = []
    for day in range(behaviour.start_day, days):
        date = start + timedelta(days=day)
        if (day - behaviour.start_day) % behaviour.every_days:
            continue
        if behaviour.weekdays_only and date.weekday() >= 5:
            continue
        if behaviour.day_of_month is not None and date.day != behaviour.day_of_month:
            continue
        found.append(day)
    return found


def _moment(rng: random.Random, origin: float, day: int, hours: tuple[int, ...]) -> float:
    return origin + day * DAY + rng.choice(hours) * 3600.0 + rng.uniform(0, 3600.0)


def _gap(rng: random.Random, pace: float) -> float:
    return rng.expovariate(1.0 / pace)


def _pages(count: int) -> int:
    return max(1, math.ceil(count / PAGE))


def _get(at: float, path: str, app: int = 0, login: int = 0) -> Generator[Step, Outcome, float]:
    """One GET, repeated after its `Retry-After` while throttled; returns the time after it."""
    while True:
        outcome = yield Call(at, app, path, login)
        if outcome.status != 429 or outcome.retry_after <= 0:
            return at
        at += outcome.retry_after


def listing(
    at: float, path: str, count: int, pace: float, rng: random.Random
) -> Generator[Step, Outcome, float]:
    for page in range(1, _pages(count) + 1):
        at = yield from _get(at, f"{path}?pageSize={PAGE}&pageNumber={page}")
        at += _gap(rng, pace)
    return at


def nightly_sync(b: Behaviour, reach: Reach, origin: float, days: int, rng: random.Random) -> Actor:
    start = datetime.fromtimestamp(origin, UTC)
    for day in active_days(b, start, days):
        at = _moment(rng, origin, day, b.hours)
        for debtor in reach.debtors:
            at = yield from _get(at, f"/api/debtors/{debtor}/companies")
            for company in reach.companies[debtor]:
                staff = reach.employees[company]
                base = f"/api/companies/{company}/employees"
                at = yield from listing(at + _gap(rng, b.pace), base, len(staff), b.pace, rng)
                at = yield from listing(at, f"{base}/employments", len(staff), b.pace, rng)
                for employee in rng.sample(staff, min(len(staff), rng.randint(0, b.volume))):
                    at = yield from _get(at + _gap(rng, b.pace), f"/api/employees/{employee}")


def on_demand(b: Behaviour, reach: Reach, origin: float, days: int, rng: random.Random) -> Actor:
    """Reads as people open records: a few employees often, most never; now and then a list."""
    start = datetime.fromtimestamp(origin, UTC)
    staff = reach.all_employees()
    working = staff[: max(3, len(staff) // rng.randint(4, 10))]
    for day in active_days(b, start, days):
        count = max(1, round(rng.gauss(b.volume, b.volume / 3)))
        moments = sorted(_moment(rng, origin, day, b.hours) for _ in range(count))
        for at in moments:
            if rng.random() < 0.1:
                company = rng.choice(reach.all_companies())
                yield from _get(at, f"/api/companies/{company}/employees?pageSize=25")
            else:
                employee = working[min(len(working) - 1, int(rng.paretovariate(1.2)) - 1)]
                yield from _get(at, f"/api/employees/{employee}")


def monthly_reporting(
    b: Behaviour, reach: Reach, origin: float, days: int, rng: random.Random
) -> Actor:
    start = datetime.fromtimestamp(origin, UTC)
    for day in active_days(b, start, days):
        at = _moment(rng, origin, day, b.hours)
        for company in reach.all_companies():
            for listing_name in ("runs", "wagetaxes"):
                at = yield from _get(at, f"/api/companies/{company}/{listing_name}")
                at += _gap(rng, b.pace)
            staff = reach.employees[company]
            at = yield from listing(at, f"/api/companies/{company}/employees", len(staff),
                                    b.pace, rng)  # fmt: skip


def daily_check(b: Behaviour, reach: Reach, origin: float, days: int, rng: random.Random) -> Actor:
    start = datetime.fromtimestamp(origin, UTC)
    for day in active_days(b, start, days):
        yield from _get(_moment(rng, origin, day, b.hours), "/api/debtors")


def accountancy(b: Behaviour, reach: Reach, origin: float, days: int, rng: random.Random) -> Actor:
    """A working day on a few customers' books: their companies, runs, wage taxes, the staff
    list and the records of some employees with changes."""
    start = datetime.fromtimestamp(origin, UTC)
    for day in active_days(b, start, days):
        at = _moment(rng, origin, day, b.hours)
        for debtor in rng.sample(reach.debtors, min(len(reach.debtors), b.volume)):
            at = yield from _get(at, f"/api/debtors/{debtor}/companies")
            for company in reach.companies[debtor]:
                for listing_name in ("runs", "wagetaxes", "employees?pageSize=50"):
                    at = yield from _get(at + _gap(rng, b.pace),
                                         f"/api/companies/{company}/{listing_name}")  # fmt: skip
                staff = reach.employees[company]
                for employee in rng.sample(staff, min(len(staff), rng.randint(1, 6))):
                    at = yield from _get(at + _gap(rng, b.pace), f"/api/employees/{employee}")
            at += rng.uniform(600, 3600)  # the next customer after a while


def harvest(b: Behaviour, reach: Reach, origin: float, days: int, rng: random.Random) -> Actor:
    """Every employee of every customer, list and record, as fast as the gateway lets it."""
    start = datetime.fromtimestamp(origin, UTC)
    for day in active_days(b, start, days):
        at = _moment(rng, origin, day, b.hours)
        for company in reach.all_companies():
            staff = reach.employees[company]
            at = yield from listing(at, f"/api/companies/{company}/employees", len(staff),
                                    b.pace, rng)  # fmt: skip
            for employee in staff:
                at = yield from _get(at + _gap(rng, b.pace), f"/api/employees/{employee}")


def slow_harvest(b: Behaviour, reach: Reach, origin: float, days: int, rng: random.Random) -> Actor:
    """The same walk spread over the day, well under the rate limit: `volume` days a round."""
    staff = reach.all_employees()
    per_hour = max(1, math.ceil(len(staff) / (b.volume * 24)))
    position = 0
    for hour in range(b.start_day * 24, days * 24):
        at = origin + hour * 3600.0 + rng.uniform(0, 600)
        for _ in range(per_hour):
            if position % len(staff) == 0:
                companies = reach.all_companies()
                company = companies[(position // len(staff)) % len(companies)]
                at = yield from _get(at, f"/api/companies/{company}/employees?pageSize={PAGE}")
            employee = staff[position % len(staff)]
            at = yield from _get(at + _gap(rng, b.pace), f"/api/employees/{employee}")
            position += 1


def probe(b: Behaviour, reach: Reach, origin: float, days: int, rng: random.Random) -> Actor:
    """Looks for what it may not see: other customers' ids, made-up ids, scopes it was not
    granted, paths outside the API, tokens that are not tokens."""
    start = datetime.fromtimestamp(origin, UTC)
    own = reach.all_companies()
    for day in active_days(b, start, days):
        moments = sorted(_moment(rng, origin, day, b.hours) for _ in range(b.volume))
        burst_at = moments[0]
        for index, _ in enumerate(moments):
            at = burst_at + index * _gap(rng, b.pace)
            kind = rng.randrange(7)
            if kind == 0 and reach.foreign_debtors:
                yield Call(at, 0, f"/api/debtors/{rng.choice(reach.foreign_debtors)}/companies")
            elif kind == 1 and reach.foreign_companies:
                yield Call(at, 0, f"/api/companies/{rng.choice(reach.foreign_companies)}/employees")
            elif kind == 2 and reach.foreign_employees:
                yield Call(at, 0, f"/api/employees/{rng.choice(reach.foreign_employees)}")
            elif kind == 3:
                yield Call(at, 0, f"/api/employees/{uuid.UUID(int=rng.getrandbits(128))}")
            elif kind == 4:
                yield Call(at, 0, f"/api/companies/{rng.choice(own)}/runs")  # scope not granted
            elif kind == 5:
                yield Call(at, 0, "/api/debtors", token="garbage")
            else:
                path = rng.choice(("/api/admin/users", "/api/v2/export", "/api/internal/dump"))
                yield Call(at, 0, path)


def multiply(b: Behaviour, reach: Reach, origin: float, days: int, rng: random.Random) -> Actor:
    """One client spread over several applications and keys, faster than one application may
    go. Some multipliers spread every burst over their applications from the start; others
    use one until it is throttled and then move to the next. After a round of throttlings
    (or, spreading, at a throttling) it has a key regenerated to start from fresh counters."""
    start = datetime.fromtimestamp(origin, UTC)
    staff = reach.all_employees()
    spreads = rng.random() < 0.5
    for day in active_days(b, start, days):
        at = _moment(rng, origin, day, b.hours)
        app = regenerated = 0
        for index in range(b.volume):
            at += _gap(rng, b.pace)
            if spreads:
                app = index % reach.apps
            path = f"/api/employees/{staff[index % len(staff)]}"
            outcome = yield Call(at, app, path, key=-1)
            if outcome.status == 429:
                if not spreads:
                    app = (app + 1) % reach.apps
                if (spreads or app == 0) and regenerated < MAX_NEW_KEYS:
                    regenerated += 1
                    yield NewKey(at, rng.randrange(reach.apps))


def stuff(b: Behaviour, reach: Reach, origin: float, days: int, rng: random.Random) -> Actor:
    """Sign-in attempts with leaked or guessed usernames and common passwords."""
    start = datetime.fromtimestamp(origin, UTC)
    guessed = [f"{name}@{domain}" for name in ("info", "admin", "hr", "payroll", "finance")
               for domain in ("example.nl", "mail.example")]  # fmt: skip
    for day in active_days(b, start, days):
        at = _moment(rng, origin, day, b.hours)
        for _ in range(b.volume):
            at += _gap(rng, b.pace)
            username = rng.choice((*reach.usernames, *guessed))
            password = rng.choice(("Welkom01!", "Zomer2026", "password1", "qwerty123"))
            yield SignIn(at, 0, username, password + str(rng.randint(0, 99)))


def flood(b: Behaviour, reach: Reach, origin: float, days: int, rng: random.Random) -> Actor:
    """For `volume` minutes, `width` of the heaviest pages (every company's employments and
    staff, 100 a page) at once each minute: the count stays under the rate limit."""
    start = datetime.fromtimestamp(origin, UTC)
    pages = [
        f"/api/companies/{company}/employees{listing}?pageSize={PAGE}&pageNumber={page}"
        for company in reach.all_companies()
        for listing in ("/employments", "")
        for page in range(1, _pages(len(reach.employees[company])) + 1)
    ]
    for day in active_days(b, start, days):
        at = _moment(rng, origin, day, b.hours)
        for minute in range(b.volume):
            first = minute * b.width
            burst = tuple(pages[(first + n) % len(pages)] for n in range(b.width))
            outcome = yield Burst(at, 0, burst)
            at += max(b.pace, outcome.retry_after)


ACTORS = {
    "nightly_sync": nightly_sync,
    "on_demand": on_demand,
    "monthly_reporting": monthly_reporting,
    "daily_check": daily_check,
    "accountancy": accountancy,
    "harvest": harvest,
    "slow_harvest": slow_harvest,
    "probe": probe,
    "multiply": multiply,
    "stuff": stuff,
    "flood": flood,
}


def actors_of(scenario: Scenario, reach: Reach, origin: float, days: int) -> list[Actor]:
    """The scenario's behaviours as actors, each with its own seeded generator."""
    return [
        ACTORS[behaviour.kind](
            behaviour, reach, origin, days, random.Random(f"{scenario.seed}:{scenario.name}:{n}")
        )
        for n, behaviour in enumerate(scenario.behaviours)
    ]
