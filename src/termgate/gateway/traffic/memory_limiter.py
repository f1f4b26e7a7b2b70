"""The in-process limiter (embedded mode, and the fallback of the Redis one when it is open).

Counters live in dicts of this process; a check and its update happen in one synchronous call,
so concurrent requests of one event loop cannot interleave between them. A refused request
spends nothing: every limit is checked before any counter moves.
"""

from __future__ import annotations

from typing import Protocol

from termgate.gateway.traffic.gcra import (
    APP_RATE,
    BANDWIDTH,
    DEVELOPER_RATE,
    MINUTE,
    QUOTA,
    Verdict,
    gcra,
    rate_state,
)
from termgate.gateway.traffic.plan_limits import PlanLimits


class Counted(Protocol):
    """What a limiter needs of a key's grant (`snapshot.KeyGrant`)."""

    @property
    def key_id(self) -> str: ...
    @property
    def limits(self) -> PlanLimits: ...
    @property
    def app_counter(self) -> str: ...
    @property
    def developer_counter(self) -> str: ...


class MemoryLimiter:
    def __init__(self) -> None:
        self.app_tat: dict[str, float] = {}
        self.developer_tat: dict[str, float] = {}
        # counter → {bucket (day or month) → requests}; only the current period's buckets stay.
        self.quota: dict[str, dict[str, int]] = {}
        # counter → (day, bytes)
        self.bandwidth: dict[str, tuple[str, int]] = {}

    def seed_quota(self, counter: str, bucket: str, used: int) -> None:
        self.quota.setdefault(counter, {})[bucket] = used

    def _quota_used(self, grant: Counted, now: float) -> tuple[dict[str, int], str, int]:
        window = grant.limits.quota_window(now)
        buckets = self.quota.get(grant.app_counter)
        if buckets is None:
            buckets = self.quota[grant.app_counter] = {}
        used = 0
        for name in window.buckets:
            used += buckets.get(name, 0)
        return buckets, window.buckets[0], used

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
            buckets, bucket, used = self._quota_used(grant, now)
            verdict.quota_used = used
            if used >= limits.quota:
                verdict.refused = QUOTA
        if limits.bandwidth is not None:
            verdict.bandwidth_used = self._bandwidth_used(grant, now)
            if verdict.bandwidth_used >= limits.bandwidth and not verdict.refused:
                verdict.refused = BANDWIDTH
        # The application's own limit is named before the developer-wide one (4.4, then 3.3 g).
        developer_tat = app_tat = 0.0
        if limits.rate is not None:
            interval = MINUTE / limits.rate
            ok, app_tat, left, seconds = gcra(
                self.app_tat.get(grant.app_counter, 0.0), now, interval
            )
            verdict.app_left, verdict.app_reset = left, seconds
            if not ok and not verdict.refused:
                verdict.refused, verdict.wait = APP_RATE, seconds
        if limits.developer_rate is not None:
            interval = MINUTE / limits.developer_rate
            ok, developer_tat, left, seconds = gcra(
                self.developer_tat.get(grant.developer_counter, 0.0), now, interval
            )
            verdict.developer_left, verdict.developer_reset = left, seconds
            if not ok and not verdict.refused:
                verdict.refused, verdict.wait = DEVELOPER_RATE, seconds
        if verdict.refused:
            return verdict
        # Every limit holds: spend on all of them.
        if limits.developer_rate is not None:
            self.developer_tat[grant.developer_counter] = developer_tat
        if limits.rate is not None:
            self.app_tat[grant.app_counter] = app_tat
        if buckets is not None:
            if bucket not in buckets:
                keep = set(limits.quota_window(now).buckets)
                for old in [name for name in buckets if name not in keep]:
                    del buckets[old]
            buckets[bucket] = buckets.get(bucket, 0) + 1
            verdict.quota_used += 1
        return verdict

    def peek(self, grant: Counted, now: float) -> Verdict:
        """The counters' state without spending (headers of requests refused before the limit)."""
        limits = grant.limits
        verdict = Verdict()
        if limits.quota is not None:
            verdict.quota_used = self._quota_used(grant, now)[2]
        if limits.bandwidth is not None:
            verdict.bandwidth_used = self._bandwidth_used(grant, now)
        if limits.developer_rate is not None:
            verdict.developer_left, verdict.developer_reset = rate_state(
                self.developer_tat.get(grant.developer_counter, 0.0),
                now,
                MINUTE / limits.developer_rate,
            )
        if limits.rate is not None:
            verdict.app_left, verdict.app_reset = rate_state(
                self.app_tat.get(grant.app_counter, 0.0), now, MINUTE / limits.rate
            )
        return verdict

    def spend_bytes(self, grant: Counted, sent: int, now: float) -> None:
        day = grant.limits.calendar.day(now).buckets[0]
        held = self.bandwidth.get(grant.app_counter)
        total = sent if held is None or held[0] != day else held[1] + sent
        self.bandwidth[grant.app_counter] = (day, total)
