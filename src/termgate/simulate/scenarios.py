"""The scenarios as data: who (a developer, applications, keys, scopes, the end users who consent),
what they do (behaviours: an operation pattern, a rate and a schedule over simulated days) and the
label (honest, or which misuse and which detectors should find it).

Every size, rate and time comes from a random generator seeded by the run's seed and the
scenario's name, so another seed is another population of the same behaviours.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

HONEST_KINDS = ("nightly_sync", "on_demand", "monthly_reporting", "accountancy")
# Behaviours that are the misuse itself (an over-scoped app misbehaves from its grant on).
MISUSE_BEHAVIOURS = ("harvest", "slow_harvest", "probe", "multiply", "stuff", "flood")
MISUSE_KINDS = (
    "fast_harvester",
    "slow_harvester",
    "prober",
    "key_multiplier",
    "over_scoped",
    "credential_stuffer",
    "flooder",
)

# Use cases as developers declare them; the scopes are what the behaviour really needs.
INFO = "employee.info.read"
EMPLOYMENT = "employee.employment.read"
COMPANY = "company.info.read"
PAYROLL_SETTINGS = "company.payrollsettings.read"
DOCUMENTS = "company.document.read"
EVERY_READ = (
    INFO, EMPLOYMENT, COMPANY, PAYROLL_SETTINGS, DOCUMENTS, "debtor.info.read",
    "employee.payment.read", "employee.leave.read", "employee.bankaccount.read",
    "employee.document.read", "employee.payrollsettings.read", "employee.orgstructure.read",
)  # fmt: skip


@dataclass(frozen=True)
class Label:
    """What the scenario is: honest, or a misuse that `detectors` must find. A misuse may also
    look like what a `tolerated` detector finds (a fast harvester strains the API too): such a
    finding is neither a hit nor a false alarm."""

    honest: bool
    clause: str = ""
    detectors: tuple[str, ...] = ()
    tolerated: tuple[str, ...] = ()


@dataclass(frozen=True)
class AppSpec:
    name: str
    use_case: str
    category: str
    scopes: tuple[str, ...]
    expected_end_users: int
    keys: int = 1
    data_access: str | None = None  # as declared (registry.applications.DATA_ACCESS)


@dataclass(frozen=True)
class Behaviour:
    """One pattern of requests. `start_day` is when it begins (for a misuse, when the
    misbehaviour starts); `hours` the hours of the day (UTC) it may act in; `volume` its size
    per active day (requests or records, per kind); `pace` the simulated seconds between two
    requests; `every_days` how often it acts; `weekdays_only` for office work."""

    kind: str
    start_day: int
    hours: tuple[int, ...]
    volume: int
    pace: float
    every_days: int = 1
    weekdays_only: bool = False
    day_of_month: int | None = None  # monthly work: the day it happens
    width: int = 1  # requests sent at once (a flood's burst)


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str
    label: Label
    apps: tuple[AppSpec, ...]
    logins: int  # how many of the world's logins consent to each application
    behaviours: tuple[Behaviour, ...]
    address: str  # the source address its requests come from (X-Forwarded-For)
    seed: int = 0
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def misbehaviour_day(self) -> int | None:
        """The day the misuse starts: its first misusing behaviour's, else the first day (the
        grant itself is the misuse); None for honest scenarios."""
        if self.label.honest:
            return None
        days = [b.start_day for b in self.behaviours if b.kind in MISUSE_BEHAVIOURS]
        return min(days, default=0)


def _rng(seed: int, name: str) -> random.Random:
    return random.Random(f"{seed}:{name}")


def _address(rng: random.Random) -> str:
    return f"{rng.choice(('198.51.100', '203.0.113', '192.0.2'))}.{rng.randint(2, 254)}"


def _office_hours(rng: random.Random) -> tuple[int, ...]:
    start = rng.randint(6, 9)
    return tuple(range(start, start + rng.randint(8, 10)))


def _misuse_start(rng: random.Random, days: int) -> int:
    return rng.randint(0, max(0, min(days // 4, 6)))


def nightly_sync(seed: int, days: int, scale: float, name: str) -> Scenario:
    rng = _rng(seed, name)
    hour = rng.randint(0, 4)
    app = AppSpec(
        f"HR Sync {name}", "Keeps the customer's HR system in step with its employees each night.",
        "hr", (COMPANY, INFO, EMPLOYMENT), rng.randint(5, 40), data_access="scheduled_sync",
    )  # fmt: skip
    sync = Behaviour("nightly_sync", 0, (hour,), rng.randint(1, 6), rng.uniform(0.5, 3.0))
    return Scenario(name, "nightly_sync", Label(True), (app,), 1, (sync,), _address(rng), seed)


def on_demand(seed: int, days: int, scale: float, name: str) -> Scenario:
    rng = _rng(seed, name)
    app = AppSpec(
        f"Payslip Desk {name}", "Shows an employee's own record when the customer's HR staff "
        "open it in our helpdesk tool.", "hr", (COMPANY, INFO), rng.randint(20, 200),
        data_access="on_demand",
    )  # fmt: skip
    reads = Behaviour(
        "on_demand", 0, _office_hours(rng), max(2, round(rng.randint(5, 40) * scale)),
        rng.uniform(20.0, 600.0), weekdays_only=rng.random() < 0.7,
    )  # fmt: skip
    logins = rng.randint(1, 2)
    return Scenario(name, "on_demand", Label(True), (app,), logins, (reads,), _address(rng), seed)


def monthly_reporting(seed: int, days: int, scale: float, name: str) -> Scenario:
    rng = _rng(seed, name)
    app = AppSpec(
        f"Cost Reports {name}", "Monthly salary-cost reports per company for the customer's "
        "management.", "accounting", (COMPANY, PAYROLL_SETTINGS, DOCUMENTS, INFO),
        rng.randint(5, 60), data_access="periodic_reports",
    )  # fmt: skip
    day = rng.randint(1, 5) if days >= 28 else rng.randint(1, max(1, days))
    report = Behaviour(
        "monthly_reporting", 0, (rng.randint(6, 20),), rng.randint(1, 3),
        rng.uniform(1.0, 5.0), day_of_month=day,
    )  # fmt: skip
    check = Behaviour("daily_check", 0, (rng.randint(6, 9),), 1, 1.0)
    return Scenario(
        name, "monthly_reporting", Label(True), (app,), 1, (report, check), _address(rng), seed
    )


def accountancy(seed: int, days: int, scale: float, name: str) -> Scenario:
    rng = _rng(seed, name)
    app = AppSpec(
        f"Ledger Partners {name}", "Bookkeeping for the payroll customers of an accountancy: "
        "journals, wage taxes and employee changes per customer.", "accounting",
        (COMPANY, PAYROLL_SETTINGS, DOCUMENTS, INFO), rng.randint(200, 2000),
        data_access="periodic_reports",
    )  # fmt: skip
    work = Behaviour(
        "accountancy", 0, _office_hours(rng), max(1, round(rng.randint(1, 3) * scale)),
        rng.uniform(2.0, 30.0), weekdays_only=True,
    )  # fmt: skip
    logins = rng.randint(4, 6)  # many customers: every consenting login adds its debtors
    return Scenario(name, "accountancy", Label(True), (app,), logins, (work,), _address(rng), seed)


def _harvest_app(rng: random.Random, name: str) -> AppSpec:
    return AppSpec(
        f"Team Birthdays {name}", "Shows a team its colleagues' birthdays on an office screen.",
        "hr", (COMPANY, INFO), rng.randint(5, 30), data_access="on_demand",
    )  # fmt: skip


def _seeks_breadth(rng: random.Random) -> dict[str, object]:
    """A harvester wants people: it wins consents (more logins) until it reaches this many."""
    return {"reach_at_least": rng.randint(300, 800)}


def fast_harvester(seed: int, days: int, scale: float, name: str) -> Scenario:
    rng = _rng(seed, name)
    walk = Behaviour(
        "harvest", _misuse_start(rng, days), (rng.randint(0, 23),), 0,
        rng.uniform(0.03, 0.12), every_days=rng.randint(1, 2),
    )  # fmt: skip
    label = Label(False, "3.3 d", ("harvest",), ("stability", "probing"))
    return Scenario(
        name, "fast_harvester", label, (_harvest_app(rng, name),), rng.randint(2, 4), (walk,),
        _address(rng), seed, _seeks_breadth(rng),
    )  # fmt: skip


def slow_harvester(seed: int, days: int, scale: float, name: str) -> Scenario:
    rng = _rng(seed, name)
    cover_days = rng.randint(1, 3)  # one full walk of every employee per this many days
    walk = Behaviour(
        "slow_harvest", _misuse_start(rng, days), tuple(range(24)), cover_days,
        rng.uniform(15.0, 90.0),
    )  # fmt: skip
    label = Label(False, "3.3 d", ("harvest",))
    return Scenario(
        name, "slow_harvester", label, (_harvest_app(rng, name),), rng.randint(2, 4), (walk,),
        _address(rng), seed, _seeks_breadth(rng),
    )  # fmt: skip


def prober(seed: int, days: int, scale: float, name: str) -> Scenario:
    rng = _rng(seed, name)
    app = AppSpec(
        f"Leave Planner {name}", "Lets employees of the customer see the team's planned leave.",
        "hr", (COMPANY, INFO), rng.randint(10, 80), data_access="on_demand",
    )  # fmt: skip
    cover = Behaviour("on_demand", 0, _office_hours(rng), rng.randint(3, 15), 120.0)
    probe = Behaviour(
        "probe", _misuse_start(rng, days), _office_hours(rng),
        max(5, round(rng.randint(15, 80) * scale)), rng.uniform(2.0, 60.0),
    )  # fmt: skip
    label = Label(False, "3.3 c", ("probing",))
    return Scenario(name, "prober", label, (app,), 1, (cover, probe), _address(rng), seed)


# A multiplier's burst is more than one application's limit lets through (the Production plan's
# 600 a minute with its burst, at 25-100 requests a second), whatever `--scale`: a smaller
# burst would need no second key, and would not be circumvention.
BURST_OVER_ONE_LIMIT = 1500


def key_multiplier(seed: int, days: int, scale: float, name: str) -> Scenario:
    rng = _rng(seed, name)
    count = rng.randint(3, 5)
    apps = tuple(
        AppSpec(
            f"Sync Worker {index + 1} {name}",
            "Synchronises the customer's employees to our workforce planning tool.",
            "hr",
            (COMPANY, INFO),
            rng.randint(5, 40),
            keys=rng.randint(1, 2),
            data_access="scheduled_sync",
        )
        for index in range(count)
    )
    spread = Behaviour(
        "multiply", _misuse_start(rng, days), (rng.randint(0, 23),),
        max(BURST_OVER_ONE_LIMIT, round(rng.randint(700, 3000) * scale)), rng.uniform(0.01, 0.04),
        every_days=rng.randint(1, 2),
    )  # fmt: skip
    label = Label(False, "3.3 g", ("circumvention",), ("harvest", "stability"))
    return Scenario(name, "key_multiplier", label, apps, 1, (spread,), _address(rng), seed)


def over_scoped(seed: int, days: int, scale: float, name: str) -> Scenario:
    rng = _rng(seed, name)
    extra = rng.sample(EVERY_READ[2:], rng.randint(4, len(EVERY_READ) - 2))
    app = AppSpec(
        f"Staff Directory {name}", "A searchable directory of the customer's employees.", "hr",
        tuple(dict.fromkeys((COMPANY, INFO, *extra))), rng.randint(10, 100),
        data_access="on_demand",
    )  # fmt: skip
    reads = Behaviour(
        "on_demand", 0, _office_hours(rng), max(2, round(rng.randint(5, 30) * scale)),
        rng.uniform(20.0, 600.0),
    )  # fmt: skip
    label = Label(False, "3.3 e", ("least_privilege",))
    return Scenario(name, "over_scoped", label, (app,), 1, (reads,), _address(rng), seed)


def credential_stuffer(seed: int, days: int, scale: float, name: str) -> Scenario:
    rng = _rng(seed, name)
    app = AppSpec(
        f"Quick Payslip {name}", "Employees download their own payslips.", "hr", (COMPANY, INFO),
        rng.randint(10, 100), data_access="on_demand",
    )  # fmt: skip
    stuff = Behaviour(
        "stuff", _misuse_start(rng, days), tuple(range(rng.randint(0, 12), 24)),
        max(10, round(rng.randint(30, 150) * scale)), rng.uniform(1.0, 20.0),
    )  # fmt: skip
    label = Label(False, "3.3 c", ("probing",))
    return Scenario(name, "credential_stuffer", label, (app,), 0, (stuff,), _address(rng), seed)


def flooder(seed: int, days: int, scale: float, name: str) -> Scenario:
    """Stays under its rate limit and reads nobody new, but sends its whole minute's allowance of
    the heaviest pages at once, minute after minute: the gateway's and the API's connections are
    its for the duration, and everyone else's requests wait behind it (clause 3.3 f)."""
    rng = _rng(seed, name)
    app = AppSpec(
        f"Workforce Insights {name}", "Headcount and contract dashboards for the customer's HR "
        "team, refreshed during the day.", "hr", (COMPANY, INFO, EMPLOYMENT), rng.randint(5, 50),
        data_access="on_demand",
    )  # fmt: skip
    flood = Behaviour(
        "flood", _misuse_start(rng, days), (rng.randint(7, 17),),
        max(20, round(rng.randint(20, 45) * scale)), 60.0, every_days=rng.randint(1, 2),
        width=rng.randint(400, 580),
    )  # fmt: skip
    label = Label(False, "3.3 f", ("stability",), ("harvest",))
    return Scenario(name, "flooder", label, (app,), 1, (flood,), _address(rng), seed)


BUILDERS = {
    "nightly_sync": nightly_sync,
    "on_demand": on_demand,
    "monthly_reporting": monthly_reporting,
    "accountancy": accountancy,
    "fast_harvester": fast_harvester,
    "slow_harvester": slow_harvester,
    "prober": prober,
    "key_multiplier": key_multiplier,
    "over_scoped": over_scoped,
    "credential_stuffer": credential_stuffer,
    "flooder": flooder,
}


def population(
    seed: int, days: int, scale: float = 1.0, copies: int = 1, kinds: tuple[str, ...] = ()
) -> list[Scenario]:
    """Every kind (or those of `kinds`) `copies` times; honest kinds twice as often: most
    integrations are honest."""
    unknown = sorted(set(kinds) - set(BUILDERS))
    if unknown:
        raise ValueError(f"no scenario kind {', '.join(unknown)} (known: {', '.join(BUILDERS)})")
    scenarios = []
    for kind, build in BUILDERS.items():
        if kinds and kind not in kinds:
            continue
        repeat = copies * (2 if kind in HONEST_KINDS else 1)
        for copy in range(repeat):
            scenarios.append(build(seed, days, scale, f"{kind.replace('_', '-')}-{copy + 1}"))
    return scenarios
