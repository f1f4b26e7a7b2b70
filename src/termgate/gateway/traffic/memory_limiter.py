"""The in-process limiter (embedded mode, and the fallback of the Redis one when it is open).

Its primitives are dicts of this process: `acquire` reads the counters, lets `gcra.decide`
judge, and stores what it spent, in one synchronous call, so concurrent requests of one event
loop cannot interleave between the check and the update.
"""

from __future__ import annotations

from termgate.gateway.traffic.gcra import SECOND_US, Verdict, decide, rate_state
from termgate.gateway.traffic.plan_limits import Counted


class MemoryLimiter:
    def __init__(self) -> None:
        # TATs in µs
        self.app_tat: dict[str, int] = {}
        self.developer_tat: dict[str, int] = {}
        # counter → {bucket (day or month) → requests}; only the current period's buckets stay.
        self.quota: dict[str, dict[str, int]] = {}
        # counter → (day, bytes)
        self.bandwidth: dict[str, tuple[str, int]] = {}

    def seed_quota(self, counter: str, bucket: str, used: int) -> None:
        self.quota.setdefault(counter, {})[bucket] = used

    def _quota_used(self, counter: str, names: tuple[str, ...]) -> tuple[dict[str, int], int]:
        """The counter's buckets and the requests in those of the current period (`names`)."""
        buckets = self.quota.get(counter)
        if buckets is None:
            buckets = self.quota[counter] = {}
        used = 0
        for name in names:
            used += buckets.get(name, 0)
        return buckets, used

    def _bandwidth_used(self, counter: str, day: str) -> int:
        held = self.bandwidth.get(counter)
        return 0 if held is None or held[0] != day else held[1]

    def acquire(self, grant: Counted, now: float) -> Verdict:
        limits = grant.limits
        periods = limits.periods.at(now)
        counter = grant.app_counter
        verdict = Verdict()
        buckets: dict[str, int] | None = None
        names = periods.quota.buckets
        if limits.quota is not None:
            buckets, verdict.quota_used = self._quota_used(counter, names)
        if limits.bandwidth is not None:
            verdict.bandwidth_used = self._bandwidth_used(counter, periods.day.buckets[0])
        app_tat = self.app_tat
        developer_tat = self.developer_tat
        decide(
            limits,
            verdict,
            int(now * SECOND_US),
            app_tat.get(counter, 0),
            developer_tat.get(grant.developer_counter, 0),
        )
        if verdict.refused:
            return verdict
        if limits.developer_interval:
            developer_tat[grant.developer_counter] = verdict.developer_tat
        if limits.app_interval:
            app_tat[counter] = verdict.app_tat
        if buckets is not None:
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
        verdict = Verdict()
        if limits.quota is not None:
            verdict.quota_used = self._quota_used(grant.app_counter, periods.quota.buckets)[1]
        if limits.bandwidth is not None:
            verdict.bandwidth_used = self._bandwidth_used(grant.app_counter, periods.day.buckets[0])
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
                self.app_tat.get(grant.app_counter, 0),
                at,
                limits.app_interval,
                limits.app_tolerance,
            )
        return verdict

    def spend_bytes(self, grant: Counted, sent: int, now: float) -> None:
        day = grant.limits.periods.at(now).day.buckets[0]
        counter = grant.app_counter
        held = self.bandwidth.get(counter)
        self.bandwidth[counter] = (day, sent if held is None or held[0] != day else held[1] + sent)
