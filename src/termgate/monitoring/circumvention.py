"""Circumvention (clauses 3.3 g, h): several keys, applications or accounts acting as one to get
round the limits.

Over the window, per developer: keys created for one application again and again (regenerating a
key to reset its counters), an application that starts sending within the hour after another of
the same account was throttled, one end user served by several applications of one account (a
multiplier), and accounts whose applications send from the same source addresses. Addresses
shared by many accounts (a proxy, a cloud NAT) say nothing and are left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from termgate.monitoring.findings import FindingDraft
from termgate.monitoring.policy import DetectorPolicy
from termgate.monitoring.window import Window

NAME = "circumvention"


@dataclass(frozen=True)
class ApplicationActivity:
    application_id: str
    requests: int
    throttled: int  # answers 429 in the window
    first_throttled_at: datetime | None
    first_seen_at: datetime  # the application's first request ever
    keys_created: int  # keys made for it in the window
    first_in_window: datetime | None = None  # its first request in the window
    environment: str = "production"
    end_users: frozenset[str] = frozenset()
    client_ips: frozenset[str] = frozenset()
    sample_request_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeveloperActivity:
    developer_id: str
    applications: list[ApplicationActivity]


def _key_churn(app: ApplicationActivity, policy: DetectorPolicy) -> str | None:
    if app.keys_created >= policy.at_least("min_new_keys"):
        return f"{app.keys_created} keys made for application {app.application_id} in the window"
    return None


def _new_after_throttle(
    developer: DeveloperActivity, policy: DetectorPolicy, window: Window
) -> list[str]:
    throttled = [
        app
        for app in developer.applications
        if app.throttled >= policy.value("min_throttled") and app.first_throttled_at is not None
    ]
    signals = []
    soon = timedelta(minutes=policy.value("takeover_minutes"))
    for app in throttled:
        started = app.first_throttled_at
        assert started is not None
        for other in developer.applications:
            began = max(other.first_seen_at, other.first_in_window or other.first_seen_at)
            if (
                other is not app
                and other.environment == app.environment
                and started <= began <= min(started + soon, window.end)
                and other.requests >= policy.value("min_requests")
            ):
                signals.append(
                    f"application {other.application_id} started sending after "
                    f"{app.application_id} was throttled"
                )
    return signals


def _shared_end_users(developer: DeveloperActivity, policy: DetectorPolicy) -> str | None:
    applications_of: dict[str, set[str]] = defaultdict(set)
    for app in developer.applications:
        if app.requests >= policy.value("min_requests"):
            for end_user in app.end_users:
                applications_of[end_user].add(app.application_id)
    most = max((len(apps) for apps in applications_of.values()), default=0)
    if most >= policy.at_least("applications_per_end_user"):
        return f"one end user served by {most} applications of the account at once"
    return None


def _shared_addresses(
    developers: Sequence[DeveloperActivity], policy: DetectorPolicy
) -> dict[str, set[str]]:
    """Per developer, the other developers that sent from one of its addresses."""
    accounts_at: dict[str, set[str]] = defaultdict(set)
    for developer in developers:
        for app in developer.applications:
            if app.requests >= policy.value("min_requests"):
                for address in app.client_ips:
                    accounts_at[address].add(developer.developer_id)
    shared: dict[str, set[str]] = defaultdict(set)
    for accounts in accounts_at.values():
        if 2 <= len(accounts) <= policy.value("max_accounts_per_address"):
            for account in accounts:
                shared[account] |= accounts - {account}
    return shared


def detect(
    rows: Sequence[DeveloperActivity], policy: DetectorPolicy, window: Window
) -> list[FindingDraft]:
    drafts = []
    shared = _shared_addresses(rows, policy)
    for developer in rows:
        signals = [s for app in developer.applications if (s := _key_churn(app, policy))]
        signals += _new_after_throttle(developer, policy, window)
        if end_users := _shared_end_users(developer, policy):
            signals.append(end_users)
        if others := shared.get(developer.developer_id):
            signals.append(f"sends from the same addresses as {len(others)} other account(s)")
        if not signals:
            continue
        apps = developer.applications
        drafts.append(
            FindingDraft(
                detector=NAME,
                clause=policy.clause,
                severity=policy.severity,
                developer_id=developer.developer_id,
                application_id=None,
                key_id=None,
                subject=NAME,
                summary="; ".join(signals),
                evidence=window.evidence(
                    applications={
                        app.application_id: {
                            "requests": app.requests,
                            "throttled": app.throttled,
                            "keys_created": app.keys_created,
                            "end_users": len(app.end_users),
                            "first_seen": app.first_seen_at.isoformat(),
                        }
                        for app in apps
                    },
                    other_accounts_at_same_addresses=sorted(shared.get(developer.developer_id, ())),
                    sample_request_ids=[i for app in apps for i in app.sample_request_ids][:10],
                ),
            )
        )
    return drafts
