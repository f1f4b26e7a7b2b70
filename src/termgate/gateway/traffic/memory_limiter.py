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

    def _quota_used(self, grant: Counted, now: float) -> tuple[dict[str, int], str, int]:
        period = grant.limits.quota_period(now)
        buckets = self.quota.get(grant.app_counter)
        if buckets is None:
            buckets = self.quota[grant.app_counter] = {}
        used = 0
        for name in period.buckets:
            used += buckets.get(name, 0)
        return buckets, period.buckets[0], used

    def _bandwidth_used(self, grant: Counted, now: float) -> int:
        held = self.bandwidth.get(grant.app_counter)
        if held is None or held[0] != grant.limits.calendar.day(now).buckets[0]:
            return 0
        return held[1]

    def acquire(self, grant: Counted, now: float) -> Verdict:
        limits = grant.limits
        verdict = Verdict()
        buckets: dict[str, int] | None = None
        bucket = ""
        if limits.quota is not None:
            buckets, bucket, verdict.quota_used = self._quota_used(grant, now)
        if limits.bandwidth is not None:
            verdict.bandwidth_used = self._bandwidth_used(grant, now)
        decide(
            limits,
            verdict,
            int(now * SECOND_US),
            self.app_tat.get(grant.app_counter, 0),
            self.developer_tat.get(grant.developer_counter, 0),
        )
        if verdict.refused:
            return verdict
        if limits.developer_interval:
            self.developer_tat[grant.developer_counter] = verdict.developer_tat
        if limits.app_interval:
            self.app_tat[grant.app_counter] = verdict.app_tat
        if buckets is not None:
            if bucket not in buckets:
                keep = set(limits.quota_period(now).buckets)
                for old in [name for name in buckets if name not in keep]:
                    del buckets[old]
            buckets[bucket] = buckets.get(bucket, 0) + 1
        return verdict

    def peek(self, grant: Counted, now: float) -> Verdict:
        """The counters' state without spending (headers of requests refused before the limit)."""
        limits = grant.limits
        verdict = Verdict()
        if limits.quota is not None:
            verdict.quota_used = self._quota_used(grant, now)[2]
        if limits.bandwidth is not None:
            verdict.bandwidth_used = self._bandwidth_used(grant, now)
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
        day = grant.limits.calendar.day(now).buckets[0]
        held = self.bandwidth.get(grant.app_counter)
        total = sent if held is None or held[0] != day else held[1] + sent
        self.bandwidth[grant.app_counter] = (day, total)
