"""The gateway's figures for the operator's Prometheus (`GET /metrics`, docs/operations.md).

The request path only adds to plain numbers (`counters.GatewayCounters`); `GatewayCollector` turns
them into Prometheus metric families when a scrape asks, together with what the gateway's other
parts already know (the usage buffer, the snapshot's age, the limiter's failed calls). So a
request costs no call into prometheus_client and no lock: one worker process is one thread.

Figures are per worker process: with several workers a scrape reads the worker that answers it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector, CollectorRegistry

from termgate.gateway.counters import UPSTREAM_BOUNDS, GatewayCounters
from termgate.gateway.pipeline import Gateway
from termgate.problems import clause_of

STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


class GatewayCollector(Collector):
    """The gateway's figures as Prometheus metric families, read at scrape time."""

    def __init__(self, gateway: Gateway, clock: Callable[[], float] = time.time) -> None:
        self.gateway = gateway
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        gateway = self.gateway
        counters = gateway.counters
        requests = CounterMetricFamily(
            "termgate_gateway_requests",
            "Requests the gateway answered, by status class of the answer",
            labels=["status_class"],
        )
        for index, name in enumerate(STATUS_CLASSES, start=1):
            requests.add_metric([name], counters.by_class[index])
        yield requests
        refusals = CounterMetricFamily(
            "termgate_gateway_refusals",
            "Problem documents the gateway answered with, by code and the clause it enforces",
            labels=["code", "clause"],
        )
        for code, count in sorted(counters.refusals.items()):
            refusals.add_metric([str(code), clause_of(code)], count)
        yield refusals
        yield self._upstream(counters)
        usage = gateway.usage
        yield GaugeMetricFamily(
            "termgate_usage_buffer_events",
            "Usage events recorded and not yet written to the database",
            value=len(usage.buffer),
        )
        yield CounterMetricFamily(
            "termgate_usage_events_dropped",
            "Usage events dropped because the buffer was full while the database was away",
            value=usage.dropped,
        )
        checked = gateway.snapshots.checked_at
        yield GaugeMetricFamily(
            "termgate_access_snapshot_age_seconds",
            "Seconds since the access snapshot was last known to match the database",
            value=self.clock() - checked if checked else float("nan"),
        )
        remote = gateway.traffic.remote
        yield CounterMetricFamily(
            "termgate_limiter_errors",
            "Calls to the shared limiter (Redis) that failed; 0 with the in-process limiter",
            value=remote.errors if remote is not None else 0,
        )

    @staticmethod
    def _upstream(counters: GatewayCounters) -> HistogramMetricFamily:
        buckets: list[tuple[str, float]] = []
        cumulative = 0
        for bound, count in zip(UPSTREAM_BOUNDS, counters.upstream_buckets, strict=False):
            cumulative += count
            buckets.append((repr(bound), cumulative))
        cumulative += counters.upstream_buckets[-1]
        buckets.append(("+Inf", cumulative))
        return HistogramMetricFamily(
            "termgate_upstream_request_duration_seconds",
            "Requests forwarded to the upstream, from their arrival to the answer's last byte",
            buckets=buckets,
            sum_value=counters.upstream_seconds,
        )


def gateway_registry(gateway: Gateway) -> CollectorRegistry:
    """A registry of the gateway's figures and the process's own (CPU, memory, open files)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GatewayCollector(gateway))
    ProcessCollector(namespace="termgate", registry=registry)
    return registry
