"""Clauses 3.3 g and 3.3 e over real usage events and registry rows, on SQLite and PostgreSQL:
applications of one account sending together past one application's rate limit, keys
regenerated right after a throttling, and an over-scoped grant found after a few days of use,
with an honest account and an honest monthly job beside them getting nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import (
    Application,
    Developer,
    Environment,
    Subscription,
    UsageEvent,
    new_id,
)
from termgate.db.usage_parties import ADDRESS, END_USER
from termgate.monitoring import circumvention
from termgate.monitoring.aggregate_circumvention import observations
from termgate.monitoring.aggregate_shared_parties import parties_per_application
from termgate.monitoring.policy import load_detector_policies
from termgate.monitoring.runner import run_pass
from termgate.monitoring.window import Window
from termgate.registry.applications import create_application
from termgate.registry.keys import issue_key, subscribe
from termgate.registry.products import PlanTemplate, create_plan, create_product
from termgate.settings import load_settings
from tests.support.factories import IssuedKey, issue_test_key, issue_test_token
from tests.support.usage_rows import add_with_summaries

POLICIES = load_detector_policies(Path(__file__).parents[2] / "terms")
CIRCUMVENTION = POLICIES["circumvention"]


def event(developer: str, application: str, at: datetime, **more: object) -> UsageEvent:
    values: dict[str, object] = {"status": 200, "latency_ms": 10.0, "end_user_id": "u-shared"}
    values.update(more)
    return UsageEvent(
        at=at,
        request_id=new_id(),
        application_id=application,
        developer_id=developer,
        method="GET",
        operation="/api/employees/{employeeId}",
        **values,
    )


async def limited_apps(
    sessions: async_sessionmaker[AsyncSession],
    key: IssuedKey,
    count: int,
    per_minute: int | None = 600,
) -> list[Application]:
    """`count` applications of the key's developer on a plan of `per_minute` requests a minute
    (None: a plan without a rate limit)."""
    suffix = new_id()[:8]
    async with sessions.begin() as session:
        developer = await session.get_one(Developer, key.developer_id)
        product = await create_product(
            session, slug=f"l-{suffix}", name="Limited", environment=Environment.SANDBOX
        )
        plan = await create_plan(
            session, product, PlanTemplate("limited", "Limited", rate_limit_per_minute=per_minute)
        )
        apps = []
        for n in range(count):
            app = await create_application(session, developer, name=f"W{n}-{suffix}", actor="tests")
            await issue_key(session, await subscribe(session, app, plan, actor="tests"), actor="t")
            apps.append(app)
    return apps


async def test_clause_3_3_g_applications_sending_together_past_one_limit_are_found(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    spreader, honest = await issue_test_key(sessions), await issue_test_key(sessions)
    spread = await limited_apps(sessions, spreader, 3)
    calm = await limited_apps(sessions, honest, 2)
    now = load_settings().now()
    minute = now.replace(second=0, microsecond=0) - timedelta(hours=2)
    events = []
    for index in range(750):  # 250 each within one minute: 750 together, over 600
        app = spread[index % 3]
        at = minute + timedelta(seconds=index * 0.07)
        events.append(event(spreader.developer_id, app.id, at))
    for index in range(400):  # two applications, 400 together: within one's limit
        app = calm[index % 2]
        at = minute + timedelta(seconds=index * 0.1)
        events.append(event(honest.developer_id, app.id, at, end_user_id=f"u{index % 2}"))
    async with sessions.begin() as session:
        add_with_summaries(session, events)
    async with sessions.begin() as session:
        result = await run_pass(session, {"circumvention": POLICIES["circumvention"]}, now)
    [found] = result.findings
    assert found.developer_id == spreader.developer_id
    assert "3 applications of the account together sent 750 requests" in found.summary


async def test_clause_3_3_g_only_minutes_that_could_pass_one_limit_are_read_each_with_all_its_apps(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # A week of a busy account's shared minutes is not read row by row: only the minutes with
    # more requests than the smallest limit come back, and each with every application that
    # sent in it, so one without a limit still keeps the minute from counting as over one.
    mixed, calm = await issue_test_key(sessions), await issue_test_key(sessions)
    limited = await limited_apps(sessions, mixed, 2)
    [unlimited] = await limited_apps(sessions, mixed, 1, per_minute=None)
    quiet = await limited_apps(sessions, calm, 2)
    now = load_settings().now()
    minute = now.replace(second=0, microsecond=0) - timedelta(hours=2)
    events = []
    for index in range(900):  # 300 each, 900 together, one application without a limit
        app = (*limited, unlimited)[index % 3]
        at = minute + timedelta(seconds=index / 20)
        events.append(event(mixed.developer_id, app.id, at, end_user_id=app.id[:30]))
    for index in range(400):  # within the smallest limit: never over one
        app = quiet[index % 2]
        at = minute + timedelta(seconds=index / 10)
        events.append(event(calm.developer_id, app.id, at, end_user_id=app.id[:30]))
    async with sessions.begin() as session:
        add_with_summaries(session, events)
    window = Window(now - timedelta(days=7), now)
    async with sessions() as session:
        developers = {d.developer_id: d for d in await observations(session, window, CIRCUMVENTION)}
    [shared] = developers[mixed.developer_id].shared_minutes
    assert shared == {app.id: 300 for app in (*limited, unlimited)}
    assert developers[calm.developer_id].shared_minutes == []
    async with sessions.begin() as session:
        result = await run_pass(session, {"circumvention": POLICIES["circumvention"]}, now)
    assert result.findings == []


async def test_clause_3_3_g_each_applications_end_users_and_addresses_are_read_whole(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Aggregated per application in the database (an array, a JSON array on SQLite): values
    holding separators or quotes come back as they were, each once, NULLs and other windows'
    values left out, whole days and cut days alike."""
    now = load_settings().now()
    odd = ["u,1", 'u"2', "u\\3", "ü 4", "[5]"]
    async with sessions.begin() as session:
        add_with_summaries(session, [
            event("d-read", "a-one", now - timedelta(days=i % 3, minutes=i), end_user_id=user,
                  client_ip="2001:db8::1" if i % 2 else "192.0.2.7")
            for i, user in enumerate([*odd, *odd])
        ])  # fmt: skip
        session.add(event("d-read", "a-two", now - timedelta(minutes=1), end_user_id=None))
        session.add(event("d-read", "a-two", now - timedelta(days=30), end_user_id="u-old"))
    window = Window(now - timedelta(days=7), now + timedelta(seconds=1))
    async with sessions() as session:
        parties = await parties_per_application(session, window)
    users, addresses = parties[END_USER], parties[ADDRESS]
    assert set(users.read) == {"a-one"}
    assert users.values_of("a-one") == set(odd)
    assert len(users.of("a-one")) == len(odd)
    assert addresses.values_of("a-one") == {"2001:db8::1", "192.0.2.7"}


def served(developer: str, application: str, end_users: list[str], at: datetime,
           count: int = 25, **more: object) -> list[UsageEvent]:  # fmt: skip
    """`count` requests of the application, one a second before `at`, for the end users in
    turn."""
    return [
        event(developer, application, at - timedelta(seconds=i),
              end_user_id=end_users[i % len(end_users)], **more)
        for i in range(count)
    ]  # fmt: skip


async def test_clause_3_3_g_the_most_applications_serving_one_end_user_are_counted_per_account(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Counted in the database, over the applications with `min_requests` (20): one end user
    of three such applications and of a fourth that sent five requests is served by three.
    Whole days from the daily parties, the start's cut day from the events."""
    now = load_settings().now()
    multi, own = f"d-multi-{new_id()[:6]}", f"d-own-{new_id()[:6]}"
    two_days_ago, start_day = now - timedelta(days=2), now - timedelta(days=7) + timedelta(hours=1)
    events = [
        *served(multi, "m1", ["u-common", "u-m1"], two_days_ago),
        *served(multi, "m2", ["u-m2", "u-common"], start_day),
        *served(multi, "m3", ["u-common"], now - timedelta(minutes=5)),
        *served(multi, "m4", ["u-common"], two_days_ago, count=5),  # below min_requests
        *served(own, "o1", ["u-o1"], two_days_ago),
        *served(own, "o2", ["u-o2", "u-o2b", "u-o2c"], start_day),
    ]
    async with sessions.begin() as session:
        add_with_summaries(session, events)
    window = Window(now - timedelta(days=7), now)
    async with sessions() as session:
        found = {d.developer_id: d for d in await observations(session, window, CIRCUMVENTION)}
    assert found[multi].most_applications_per_end_user == 3
    assert found[own].most_applications_per_end_user == 1
    end_users = {app.application_id: app.end_users for d in found.values()
                 for app in d.applications}  # fmt: skip
    assert end_users == {"m1": 2, "m2": 2, "m3": 1, "m4": 1, "o1": 1, "o2": 3}
    drafts = circumvention.detect(list(found.values()), CIRCUMVENTION, window)
    assert [d.developer_id for d in drafts] == [multi]
    assert "one end user served by 3 applications" in drafts[0].summary


async def test_clause_3_3_h_accounts_at_one_address_are_linked_only_for_a_common_end_user(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Linked in the database: two accounts at one address serving one end user, one of them
    throttled. Not strangers at one host (no common end user), not two related accounts within
    their limits, not the accounts behind a proxy (more than `max_accounts_per_address`)."""
    now = load_settings().now()
    tag = new_id()[:6]
    x, y, z, w = (f"d-{name}-{tag}" for name in "xyzw")
    proxied = [f"d-p{n}-{tag}" for n in range(4)]
    shared_host, related_host, proxy = "192.0.2.7", "198.51.100.4", "203.0.113.9"
    day = now - timedelta(days=2)
    events = [
        *served(x, f"x-{tag}", ["u-x"], day, client_ip=shared_host),
        *served(x, f"x-{tag}", ["u-x"], day - timedelta(minutes=1), count=5, status=429),
        *served(y, f"y-{tag}", ["u-y"], now - timedelta(days=7) + timedelta(hours=1),
                client_ip=shared_host),
        *served(z, f"z-{tag}", ["u-zw"], day, client_ip=related_host),
        *served(w, f"w-{tag}", ["u-zw"], day, client_ip=related_host),
    ]  # fmt: skip
    for account in proxied:
        events += served(account, f"a-{account}", ["u-proxied"], day, client_ip=proxy)
        events += served(account, f"a-{account}", ["u-proxied"], day, count=1, status=429)
    async with sessions.begin() as session:
        add_with_summaries(session, events)
    window = Window(now - timedelta(days=7), now)
    async with sessions() as session:
        strangers = {d.developer_id: d for d in await observations(session, window, CIRCUMVENTION)}
    assert all(not d.linked_accounts for d in strangers.values())
    async with sessions.begin() as session:  # y now also serves x's end user, from elsewhere
        add_with_summaries(session, served(y, f"y-{tag}", ["u-x"], now - timedelta(hours=2),
                                           count=1, client_ip="192.0.2.200"))  # fmt: skip
    async with sessions() as session:
        linked = {d.developer_id: d for d in await observations(session, window, CIRCUMVENTION)}
    assert linked[x].linked_accounts == {y}
    assert linked[y].linked_accounts == {x}
    assert all(not linked[a].linked_accounts for a in (z, w, *proxied))
    drafts = circumvention.detect(list(linked.values()), CIRCUMVENTION, window)
    assert {d.developer_id for d in drafts} == {x, y}
    assert all("same end users as 1 other account(s)" in d.summary for d in drafts)


async def test_clause_3_3_g_keys_regenerated_after_a_throttling_are_found(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    resetter, rotator = await issue_test_key(sessions), await issue_test_key(sessions)
    [resets] = await limited_apps(sessions, resetter, 1)
    [rotates] = await limited_apps(sessions, rotator, 1)
    now = load_settings().now() + timedelta(days=1)  # the keys above are its provisioning
    throttled = now - timedelta(hours=4)
    events = []
    for party, app in ((resetter, resets), (rotator, rotates)):
        events += [event(party.developer_id, app.id, throttled - timedelta(seconds=i))
                   for i in range(30)]  # fmt: skip
        events += [
            event(party.developer_id, app.id, throttled + timedelta(seconds=i), status=429)
            for i in range(20)
        ]
    async with sessions.begin() as session:
        add_with_summaries(session, events)
    for app, at in (
        (resets, throttled + timedelta(minutes=1)),
        (resets, throttled + timedelta(minutes=2)),
        (rotates, throttled - timedelta(days=1)),  # rotations far from its throttling
        (rotates, throttled + timedelta(hours=3)),
    ):
        async with sessions.begin() as session:
            subscription = await session.scalar(
                select(Subscription).where(Subscription.application_id == app.id)
            )
            assert subscription is not None
            issued = await issue_key(session, subscription, actor="tests")
            issued.row.created_at = at
    async with sessions.begin() as session:
        result = await run_pass(session, {"circumvention": POLICIES["circumvention"]}, now)
    [found] = result.findings
    assert found.developer_id == resetter.developer_id
    assert "2 keys regenerated within 60 minutes after a throttling" in found.summary


async def test_clause_3_3_e_a_grant_mostly_unused_is_found_after_days_of_use_not_a_monthly_job(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    over_scoped, monthly = await issue_test_key(sessions), await issue_test_key(sessions)
    extra = "payslip.read debtor.info.read employee.leave.read employee.payment.read"
    await issue_test_token(
        sessions, over_scoped.application_id, scope=f"employee.info.read {extra}"
    )
    # A reporting app: two of its four scopes wait for the month's report.
    await issue_test_token(
        sessions,
        monthly.application_id,
        scope="employee.info.read company.info.read company.payrollsettings.read payslip.read",
    )
    now = load_settings().now()
    events = []
    for day in range(5):
        at = now - timedelta(days=day, hours=1)
        events += [
            event(over_scoped.developer_id, over_scoped.application_id, at,
                  scope="employee.info.read")
            for _ in range(4)
        ]  # fmt: skip
        events += [
            event(monthly.developer_id, monthly.application_id, at, scope=scope)
            for scope in ("employee.info.read", "company.info.read")
        ]
    async with sessions.begin() as session:
        add_with_summaries(session, events)  # least privilege reads its 90 days from them
    async with sessions.begin() as session:
        result = await run_pass(session, {"least_privilege": POLICIES["least_privilege"]}, now)
    [found] = result.findings
    assert found.application_id == over_scoped.application_id
    assert "4 of 5 granted API scopes never used in 5 days of use" in found.summary
