"""What the request path counts for the operator's metrics: plain numbers, nothing else.

A list slot per status class, a dict slot per refusal code, a histogram bucket found by
bisection: no call into a metrics library and no lock per request (one worker process is one
thread). `metrics.GatewayCollector` reads them when Prometheus scrapes.
"""

from __future__ import annotations

from bisect import bisect_left

from termgate.problems import CLIENT_CLOSED

# Upper bounds (seconds) of the upstream latency histogram's buckets; +Inf is implied.
UPSTREAM_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class GatewayCounters:
    """What the request path counts: answers by status class, refusals by code, and the time
    of requests forwarded to the upstream."""

    __slots__ = ("by_class", "refusals", "upstream_buckets", "upstream_seconds")

    def __init__(self) -> None:
        self.by_class = [0] * 6  # index: status // 100 (0: no status, the client went away)
        self.refusals: dict[int, int] = {}
        self.upstream_buckets = [0] * (len(UPSTREAM_BOUNDS) + 1)
        self.upstream_seconds = 0.0

    def answered(self, status: int, code: int | None) -> None:
        self.by_class[status // 100 if 0 < status < 600 else 0] += 1
        if code is not None and code != CLIENT_CLOSED:
            refusals = self.refusals
            refusals[code] = refusals.get(code, 0) + 1

    def forwarded(self, status: int, code: int | None, seconds: float) -> None:
        """A request the upstream answered (`answered` and its time, in one call)."""
        self.by_class[status // 100 if 0 < status < 600 else 0] += 1
        if code is not None and code != CLIENT_CLOSED:
            refusals = self.refusals
            refusals[code] = refusals.get(code, 0) + 1
        self.upstream_buckets[bisect_left(UPSTREAM_BOUNDS, seconds)] += 1
        self.upstream_seconds += seconds
