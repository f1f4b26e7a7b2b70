"""The grant a limiter counts for, as the gateway's snapshot hands it over: a plan's limits and
the counters of the key's application and developer (clause 3.3 g: the developer's is shared)."""

from __future__ import annotations

from dataclasses import dataclass

from termgate.gateway.traffic.plan_limits import PlanLimits


@dataclass(frozen=True)
class Grant:
    limits: PlanLimits
    key_id: str = "key-1"
    app_counter: str = "app-1"
    developer_counter: str = "dev-1"
