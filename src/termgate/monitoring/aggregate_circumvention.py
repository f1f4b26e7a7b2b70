"""The SQL side of the circumvention detector: per developer, its applications' requests and
throttlings, the keys made for them, what their end users and addresses share
(`aggregate_shared_parties`), and the minutes in which several of them sent together; on SQLite
and PostgreSQL alike."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import Application, Plan, Subscription, SubscriptionKey, UsageEvent
from termgate.db.usage_parties import ADDRESS, END_USER
from termgate.db.usage_stretches import (
    count_requests,
    count_requests_where,
    day_end_if_quiet,
    in_stretch,
    stretches,
)
from termgate.monitoring.aggregate import in_window, minute_bucket
from termgate.monitoring.aggregate_parties import first_seen_of
from termgate.monitoring.aggregate_shared_parties import parties_per_application
from termgate.monitoring.circumvention import ApplicationActivity, DeveloperActivity
from termgate.monitoring.policy import DetectorPolicy
from termgate.monitoring.shared_parties import ActiveApplication, shared_parties
from termgate.monitoring.window import Window

# Keys made this soon after an application's first key are its provisioning, not regeneration.
PROVISIONING = timedelta(hours=1)
THROTTLED = 429
# A literal, not a bound value: only a query that states the partial index's own predicate
# (`status = 429`) reads the index of the throttled events (ix_usage_events_throttled_at).
THROTTLED_EVENT = UsageEvent.status == literal_column(str(THROTTLED))


async def _rate_limits(session: AsyncSession, applications: list[str]) -> dict[str, int | None]:
    """Per application, the per-minute rate limit of its plans (the largest; None: unlimited)."""
    query = (
        select(Subscription.application_id, Plan.rate_limit_per_minute)
        .join(Plan, Plan.id == Subscription.plan_id)
        .where(Subscription.application_id.in_(applications))
    )
    limits: dict[str, list[int | None]] = defaultdict(list)
    for application, limit in (await session.execute(query)).all():
        limits[str(application)].append(limit)
    return {
        app: None if None in found else max(limit for limit in found if limit is not None)
        for app, found in limits.items()
    }


async def _shared_minutes(
    session: AsyncSession,
    window: Window,
    applications: list[str],
    limits: dict[str, int | None],
) -> dict[str, list[dict[str, int]]]:
    """Per developer, the minutes in which two or more of `applications` sent, app → requests:
    only those that could be over one application's limit (`circumvention._over_one_limit`).
    Such a minute has a limit for each of its applications and more requests than the largest,
    so more than the smallest of `limits` (those of `applications`); the others are left in the
    database, not returned row by row (a week of a busy account's minutes)."""
    known = [limit for limit in limits.values() if limit is not None]
    if not known:
        return {}
    minute = minute_bucket(session).label("minute")
    per_application = (
        select(
            UsageEvent.developer_id.label("developer"),
            minute,
            UsageEvent.application_id.label("application"),
            func.count().label("requests"),
        )
        .where(in_window(window), UsageEvent.application_id.in_(applications))
        .group_by(UsageEvent.developer_id, minute, UsageEvent.application_id)
        .subquery()
    )
    together = [per_application.c.developer, per_application.c.minute]
    sized = select(
        per_application,
        func.count().over(partition_by=together).label("applications"),
        func.sum(per_application.c.requests).over(partition_by=together).label("together"),
    ).subquery()
    query = select(sized.c.developer, sized.c.minute, sized.c.application, sized.c.requests).where(
        sized.c.applications >= 2, sized.c.together > min(known)
    )
    minutes: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
    for developer, at, application, count in (await session.execute(query)).all():
        minutes[(str(developer), int(at))][str(application)] = int(count)
    shared: dict[str, list[dict[str, int]]] = defaultdict(list)
    for (developer, _at), sent in sorted(minutes.items()):
        shared[developer].append(sent)
    return shared


async def _throttled_minutes(session: AsyncSession, window: Window) -> dict[str, set[int]]:
    """Per developer, the minutes (since the epoch) in which one of its requests got a 429."""
    minute = minute_bucket(session).label("minute")
    query = (
        select(UsageEvent.developer_id, minute)
        .distinct()
        .where(in_window(window), THROTTLED_EVENT, UsageEvent.developer_id.is_not(None))
    )
    found: dict[str, set[int]] = defaultdict(set)
    for developer, at in (await session.execute(query)).all():
        found[str(developer)].add(int(at))
    return found


async def _key_moments(
    session: AsyncSession, window: Window, applications: list[str]
) -> dict[str, list[datetime]]:
    """Per application, when its keys were made in the window, its provisioning left out."""
    query = (
        select(Subscription.application_id, SubscriptionKey.created_at)
        .join(SubscriptionKey, SubscriptionKey.subscription_id == Subscription.id)
        .where(Subscription.application_id.in_(applications))
    )
    made: dict[str, list[datetime]] = defaultdict(list)
    for application, created in (await session.execute(query)).all():
        made[str(application)].append(created)
    regenerated: dict[str, list[datetime]] = {}
    for application, moments in made.items():
        first = min(moments)
        regenerated[application] = [
            at for at in moments if at - first > PROVISIONING and window.start <= at < window.end
        ]
    return regenerated


async def _activity(session: AsyncSession, window: Window) -> list[tuple[str, str, int, int]]:
    """Per developer and application, its requests and its throttled ones (429) in the window:
    the whole days and hours from the usage summaries, the cut hours from the events."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for stretch in stretches(window.start, window.end):
        table = stretch[0]
        query = (
            select(
                table.developer_id,
                table.application_id,
                count_requests(table),
                count_requests_where(table, table.status == THROTTLED),
            )
            .where(*in_stretch(stretch))
            .group_by(table.developer_id, table.application_id)
        )
        for developer, application, requests, throttled in (await session.execute(query)).all():
            if developer:  # '' in the summaries: an event with no developer
                sums = counts[(str(developer), str(application))]
                sums[0] += int(requests)
                sums[1] += int(throttled or 0)
    return [
        (developer, application, requests, throttled)
        for (developer, application), (requests, throttled) in sorted(counts.items())
    ]


async def _first_throttled(session: AsyncSession, window: Window) -> dict[str, datetime]:
    """Per application, its first throttled request (429) in the window."""
    query = (
        select(UsageEvent.application_id, func.min(UsageEvent.at))
        .where(THROTTLED_EVENT, in_window(window), UsageEvent.application_id.is_not(None))
        .group_by(UsageEvent.application_id)
    )
    return {str(app): first for app, first in (await session.execute(query)).all()}


async def observations(
    session: AsyncSession, window: Window, policy: DetectorPolicy
) -> list[DeveloperActivity]:
    # The counts and the parties read today whole from the daily tables when no event is later
    # than the window (a window that ends now): at 100 million events a month its hours and
    # events were half of a pass (docs/performance.md).
    read_to = Window(window.start, await day_end_if_quiet(session, window.end))
    rows = await _activity(session, read_to)
    min_requests = policy.value("min_requests")
    applications = [application for _developer, application, _requests, _throttled in rows]
    first_in_window = await first_seen_of(session, applications, window)
    first_throttled = await _first_throttled(session, window)
    first_seen = await first_seen_of(session, applications)
    keys = await _key_moments(session, window, applications)
    throttle_minutes = await _throttled_minutes(session, window)
    environments = dict(
        (
            await session.execute(
                select(Application.id, Application.environment).where(
                    Application.id.in_(applications)
                )
            )
        ).all()
    )
    apps_of: dict[str, list[str]] = defaultdict(list)
    for developer, application, _requests, _throttled in rows:
        apps_of[developer].append(application)
    several = [app for apps in apps_of.values() if len(apps) >= 2 for app in apps]
    limits = await _rate_limits(session, several)
    shared_minutes = await _shared_minutes(session, window, several, limits)
    # Last: a busy week's parties are millions of values, which every collection of the
    # garbage collector would then walk (read before the throttled minutes, as strings in sets,
    # they made those ten times slower at 100 million events a month).
    parties = await parties_per_application(session, read_to)
    active = [
        ActiveApplication(application, developer, throttled, requests >= min_requests)
        for developer, application, requests, throttled in rows
    ]
    proxy_above = policy.value("max_accounts_per_address")
    shared = shared_parties(parties[END_USER], parties[ADDRESS], active, proxy_above)
    developers: dict[str, list[ApplicationActivity]] = defaultdict(list)
    for developer, application, requests, throttled in rows:
        environment = environments.get(application)
        made = keys.get(application, [])
        developers[developer].append(
            ApplicationActivity(
                application_id=application,
                requests=requests,
                throttled=throttled,
                first_throttled_at=first_throttled.get(application),
                first_seen_at=first_seen.get(application, window.start),
                first_in_window=first_in_window.get(application),
                keys_created=len(made),
                keys_made_at=tuple(sorted(made)),
                environment=environment.value if environment else "production",
                end_users=shared.end_users.get(application, 0),
                rate_limit_per_minute=limits.get(application),
            )
        )
    return [
        DeveloperActivity(
            developer,
            apps,
            shared_minutes.get(developer, []),
            frozenset(throttle_minutes.get(developer, ())),
            shared.most_applications_per_end_user.get(developer, 0),
            shared.linked_accounts.get(developer, frozenset()),
        )
        for developer, apps in developers.items()
    ]
