"""The SQL side of least privilege (clause 3.3 e): per application, the scopes its live grants
hold against the scopes its requests used and the days it used them, and the keys and client
secret it did not use; on SQLite and PostgreSQL alike.

Its 90 days are read as the quota seed reads a month (`usage_stretches.stretches`): whole UTC
days from the daily usage summary, the whole hours beside them from the hourly one, the cut
hours at the two ends from the events. The summaries are grouped by scope and key, so a pass
reads at most a row per application, scope and day (and per hour of two days) however many
events the 90 days had, and counts exactly what the events alone would.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select, true, union
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import Application, Status, Subscription, SubscriptionKey, UsageEvent
from termgate.db.oauth import TokenFamily
from termgate.db.usage_stretches import Stretch, count_requests, in_stretch, stretches
from termgate.monitoring.aggregate import second_bucket
from termgate.monitoring.aggregate_parties import days_since
from termgate.monitoring.least_privilege import ScopeUse
from termgate.monitoring.window import Party, Window

RECENT = timedelta(days=30)  # the shorter of the two spans scopes used are reported for
DAY_SECONDS = 86_400
Only = Callable[[Any], ColumnElement[bool]]


def _used(stretch: Stretch, mine: Only) -> list[ColumnElement[bool]]:
    """The stretch's successful requests of applications (all, or `mine`)."""
    table = stretch[0]
    return [*in_stretch(stretch), table.status < 400, mine(table.application_id)]


def _scopes_used(stretch: Stretch, mine: Only) -> Select[Any]:
    """Per application and scope, the successful requests."""
    table = stretch[0]
    return (
        select(table.application_id, table.scope, count_requests(table))
        .where(*_used(stretch, mine))
        .group_by(table.application_id, table.scope)
    )


def _days_used(session: AsyncSession, stretch: Stretch, mine: Only) -> Select[Any]:
    """Per application, the days (numbers since the epoch) with a successful request: a read of
    its own, since one per application, scope and day returns ten times the rows."""
    table, moment = stretch[0], stretch[1]
    day = second_bucket(session, moment) // DAY_SECONDS
    return select(table.application_id, day).where(*_used(stretch, mine)).distinct()


def _keys_used(stretch: Stretch) -> Select[Any]:
    table, moment, first, last = stretch
    return select(table.key_id).where(moment >= first, moment < last, table.key_id.is_not(None))


class ScopesUsed:
    """Per application: the scopes used over the window and over its recent part (the last 30
    days), the successful requests and the days (numbers since the epoch) with one."""

    def __init__(self) -> None:
        self.window: dict[str, set[str]] = defaultdict(set)
        self.recent: dict[str, set[str]] = defaultdict(set)
        self.requests: dict[str, int] = defaultdict(int)
        self.days: dict[str, set[int]] = defaultdict(set)

    def add_scopes(self, rows: Any, *, recent: bool) -> None:
        for application, scope, count in rows:
            self.requests[application] += int(count)
            if scope:
                self.window[application].add(scope)
                if recent:
                    self.recent[application].add(scope)

    def add_days(self, rows: Any) -> None:
        for application, day in rows:
            self.days[application].add(int(day))


async def scopes_used(
    session: AsyncSession, window: Window, mine: Only, recent: timedelta = RECENT
) -> ScopesUsed:
    used = ScopesUsed()
    since = max(window.start, window.end - recent)
    for start, end, in_recent in ((window.start, since, False), (since, window.end, True)):
        for stretch in stretches(start, end):
            scopes = await session.execute(_scopes_used(stretch, mine))
            used.add_scopes(scopes.all(), recent=in_recent)
            used.add_days((await session.execute(_days_used(session, stretch, mine))).all())
    return used


async def scope_use(
    session: AsyncSession, window: Window, only: list[str] | None = None
) -> list[ScopeUse]:
    """Per application (all, or `only` these), scopes granted and used, idle keys and secret."""
    mine: Only = (lambda column: column.in_(only)) if only is not None else (lambda _: true())
    families = (
        await session.execute(
            select(TokenFamily.application_id, TokenFamily.scope, TokenFamily.created_at).where(
                TokenFamily.revoked_at.is_(None), mine(TokenFamily.application_id)
            )
        )
    ).all()
    granted: dict[str, set[str]] = defaultdict(set)
    first_grant: dict[str, datetime] = {}
    for application, scope, created in families:
        granted[application] |= set(scope.split())
        first_grant[application] = min(created, first_grant.get(application, created))
    used = await scopes_used(session, window, mine)
    idle = await _idle_keys(session, window)
    apps = list(
        await session.scalars(select(Application).where(Application.status == Status.ACTIVE))
    )
    recent_grants = {app for app, _scope, created in families if created >= window.start}
    rows = []
    for app in apps:
        if app.id not in granted and app.id not in idle:
            continue
        started = first_grant.get(app.id, app.created_at)
        rows.append(
            ScopeUse(
                party=Party(app.developer_id, app.id),
                granted=frozenset(granted.get(app.id, ())),
                used_30=frozenset(used.recent.get(app.id, ())),
                used_90=frozenset(used.window.get(app.id, ())),
                age_days=days_since(min(started, app.created_at), window.end),
                requests_90=used.requests.get(app.id, 0),
                days_of_use=len(used.days.get(app.id, ())),
                idle_keys=tuple(idle.get(app.id, ())),
                idle_secret=bool(app.client_secret_hash)
                and app.created_at < window.start
                and app.id not in recent_grants,
            )
        )
    return rows


async def _idle_keys(session: AsyncSession, window: Window) -> dict[str, list[str]]:
    """Per application, the prefixes of live keys older than the window with no request in it."""
    parts = [_keys_used(stretch) for stretch in stretches(window.start, window.end)]
    used = union(*parts) if parts else select(UsageEvent.key_id).where(false())
    query = (
        select(Subscription.application_id, SubscriptionKey.prefix)
        .join(Subscription, SubscriptionKey.subscription_id == Subscription.id)
        .where(
            SubscriptionKey.status == Status.ACTIVE,
            SubscriptionKey.created_at < window.start,
            SubscriptionKey.id.not_in(used),
        )
    )
    idle: dict[str, list[str]] = defaultdict(list)
    for application, prefix in (await session.execute(query)).all():
        idle[application].append(prefix)
    return idle
