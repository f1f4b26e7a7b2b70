"""The in-process limiter (embedded mode, and the fallback of the Redis one when it is open).

Its primitives are dicts of this process: `acquire` reads the counters, lets `gcra.decide`
judge, and stores what it spent, in one synchronous call, so concurrent requests of one event
loop cannot interleave between the check and the update.
"""

from __future__ import annotations

from termgate.gateway.traffic.gcra import SECOND_US, Verdict, decide, rate_state
from termgate.gateway.traffic.plan_limits import Counted


class AppCounters:
    """One application's counters under one plan (its counter id), in one object so a request
    finds them with one look-up: the rate's TAT in µs, the quota's buckets (day or month →
    requests; only the current period's stay), and the bytes sent on `day`."""

    __slots__ = ("buckets", "day", "sent", "tat")

    def __init__(self) -> None:
        self.tat = 0
        self.buckets: dict[str, int] = {}
        self.day = ""
        self.sent = 0


# What `peek` reads for an application that has not been counted yet (never written to).
UNCOUNTED = AppCounters()


class MemoryLimiter:
    def __init__(self) -> None:
        self.apps: dict[str, AppCounters] = {}
        # developer counter → TAT in µs (clause 3.3 g: shared by the developer's applications)
        self.developer_tat: dict[str, int] = {}

    def app(self, counter: str) -> AppCounters:
        found = self.apps.get(counter)
        if found is None:
            found = self.apps[counter] = AppCounters()
        return found

    def seed_quota(self, counter: str, bucket: str, used: int) -> None:
        self.app(counter).buckets[bucket] = used

    def acquire(self, grant: Counted, now: float) -> Verdict:
        limits = grant.limits
        periods = limits.periods.at(now)
        app = self.apps.get(grant.app_counter) or self.app(grant.app_counter)
        verdict = Verdict()
        buckets = app.buckets
        names = periods.quota.buckets
        if limits.quota is not None:
            used = 0
            for name in names:
                used += buckets.get(name, 0)
            verdict.quota_used = used
        if limits.bandwidth is not None and app.day == periods.day.buckets[0]:
            verdict.bandwidth_used = app.sent
        developer_tat = self.developer_tat
        developer = grant.developer_counter
        decide(limits, verdict, int(now * SECOND_US), app.tat, developer_tat.get(developer, 0))
        if verdict.refused:
            return verdict
        if limits.developer_interval:
            developer_tat[developer] = verdict.developer_tat
        if limits.app_interval:
            app.tat = verdict.app_tat
        if limits.quota is not None:
            bucket = names[0]
            count = buckets.get(bucket)
            if count is None:
                count = 0
                keep = set(names)
                for old in [name for name in buckets if name not in keep]:
                    del buckets[old]
            buckets[bucket] = count + 1
        return verdict

    def peek(self, grant: Counted, now: float) -> Verdict:
        """The counters' state without spending (headers of requests refused before the limit)."""
        limits = grant.limits
        periods = limits.periods.at(now)
        app = self.apps.get(grant.app_counter, UNCOUNTED)
        verdict = Verdict()
        if limits.quota is not None:
            buckets = app.buckets
            verdict.quota_used = sum(buckets.get(name, 0) for name in periods.quota.buckets)
        if limits.bandwidth is not None and app.day == periods.day.buckets[0]:
            verdict.bandwidth_used = app.sent
        at = int(now * SECOND_US)
        if limits.developer_interval:
            verdict.developer_left, verdict.developer_reset = rate_state(
                self.developer_tat.get(grant.developer_counter, 0),
                at,
                limits.developer_interval,
                limits.developer_tolerance,
            )
        if limits.app_interval:
            verdict.app_left, verdict.app_reset = rate_state(
                app.tat, at, limits.app_interval, limits.app_tolerance
            )
        return verdict

    def spend_bytes(self, grant: Counted, sent: int, now: float) -> None:
        day = grant.limits.periods.at(now).day.buckets[0]
        app = self.apps.get(grant.app_counter) or self.app(grant.app_counter)
        if app.day == day:
            app.sent += sent
        else:
            app.day, app.sent = day, sent
