"""Circumvention (clauses 3.3 g, h): several keys, applications or accounts acting as one to get
round the limits.

Over the window, per developer: keys created for one application again and again (regenerating a
key to reset its counters), an application that starts sending within the hour after another of
the same account was throttled, one end user served by several applications of one account (a
multiplier), minutes in which several applications of the account together sent more than one
application's plan allows a minute (one client spread over several keys, whether it moves on when
throttled or spreads its requests from the start), and accounts whose applications send from the
same source addresses for the same end users while one of them is being throttled (one client
carrying on under another account). Addresses shared by many accounts (a proxy, a cloud NAT) say
nothing and are left out; an address alone links no accounts, and linked accounts none of which
meets a limit get round nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

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
    keys_created: int  # keys made for it in the window, after its first keys (regenerations)
    first_in_window: datetime | None = None  # its first request in the window
    environment: str = "production"
    end_users: int = 0  # the distinct end users it served in the window
    sample_request_ids: list[str] = field(default_factory=list)
    rate_limit_per_minute: int | None = None  # its plan's; None: unlimited
    keys_made_at: tuple[datetime, ...] = ()  # when those keys were made


@dataclass(frozen=True)
class DeveloperActivity:
    developer_id: str
    applications: list[ApplicationActivity]
    # Minutes in which two or more of its applications sent: application id → requests.
    shared_minutes: list[dict[str, int]] = field(default_factory=list)
    # Minutes (since the epoch) in which one of its requests was throttled (429).
    throttled_minutes: frozenset[int] = frozenset()
    # Of its applications with the policy's `min_requests`, the most that served one end user.
    most_applications_per_end_user: int = 0
    # The other accounts that sent from one of its addresses for one of its end users, one of
    # the two throttled (`shared_parties.linked_accounts`).
    linked_accounts: frozenset[str] = frozenset()


def _key_churn(app: ApplicationActivity, policy: DetectorPolicy) -> str | None:
    if app.keys_created >= policy.at_least("min_new_keys"):
        return (
            f"{app.keys_created} keys regenerated for application {app.application_id} in the "
            "window"
        )
    return None


def _minute(at: datetime) -> int:
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return int(aware.timestamp() // 60)


def _keys_after_throttle(developer: DeveloperActivity, policy: DetectorPolicy) -> str | None:
    """Keys regenerated soon after the account was throttled: fresh counters, not rotation."""
    soon = int(policy.value("takeover_minutes"))
    after = sum(
        1
        for app in developer.applications
        for at in app.keys_made_at
        if any(m in developer.throttled_minutes for m in range(_minute(at) - soon, _minute(at) + 1))
    )
    if after >= policy.at_least("min_keys_after_throttle"):
        return f"{after} keys regenerated within {soon} minutes after a throttling (429)"
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


def _over_one_limit(minute: dict[str, int], limits: dict[str, int | None], spill: float) -> bool:
    """Together over the limit of the largest-limited application, with the others adding a
    real part of it (not one stray request beside an application at its own limit)."""
    known = [limits.get(app) for app in minute]
    if len(minute) < 2 or any(limit is None for limit in known):
        return False
    limit = max(limit for limit in known if limit is not None)
    busiest = max(minute.values())
    return sum(minute.values()) > limit and sum(minute.values()) - busiest >= spill * limit


def _acting_as_one(developer: DeveloperActivity, policy: DetectorPolicy) -> str | None:
    limits = {app.application_id: app.rate_limit_per_minute for app in developer.applications}
    spill = policy.value("spill_share")
    over = [m for m in developer.shared_minutes if _over_one_limit(m, limits, spill)]
    if len(over) < policy.at_least("min_minutes_over_limit"):
        return None
    most = max(over, key=lambda minute: sum(minute.values()))
    return (
        f"{len(over)} minute(s) in which {len(most)} applications of the account together sent "
        f"{sum(most.values())} requests, more than one application's plan allows a minute"
    )


def _shared_end_users(developer: DeveloperActivity, policy: DetectorPolicy) -> str | None:
    most = developer.most_applications_per_end_user
    if most >= policy.at_least("applications_per_end_user"):
        return f"one end user served by {most} applications of the account at once"
    return None


def detect(
    rows: Sequence[DeveloperActivity], policy: DetectorPolicy, window: Window
) -> list[FindingDraft]:
    drafts = []
    for developer in rows:
        signals = [s for app in developer.applications if (s := _key_churn(app, policy))]
        if fresh := _keys_after_throttle(developer, policy):
            signals.append(fresh)
        signals += _new_after_throttle(developer, policy, window)
        if end_users := _shared_end_users(developer, policy):
            signals.append(end_users)
        if as_one := _acting_as_one(developer, policy):
            signals.append(as_one)
        if others := developer.linked_accounts:
            signals.append(
                f"sends from the same addresses for the same end users as {len(others)} other "
                "account(s), one of them throttled"
            )
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
                            "end_users": app.end_users,
                            "first_seen": app.first_seen_at.isoformat(),
                        }
                        for app in apps
                    },
                    other_accounts_at_same_addresses=sorted(developer.linked_accounts),
                    sample_request_ids=[i for app in apps for i in app.sample_request_ids][:10],
                ),
            )
        )
    return drafts
