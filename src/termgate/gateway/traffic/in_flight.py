"""The plan's cap on requests of one application under way at once (clause 3.3 f).

Counted in this process, so per worker process (as the upstream pool is): a client that opens
many slow requests holds at most `max_in_flight` of each worker's upstream connections. Counting
it in Redis would cost a second round trip per request (docs/limits.md). The pipeline
gives a place back (`step.TrafficPolicy.after`) whatever became of the request.
"""

from __future__ import annotations

from termgate.gateway.exchange import Exchange, refuse
from termgate.gateway.snapshot import KeyGrant
from termgate.problems import IN_FLIGHT_CAP, ProblemResponse


class InFlight:
    """Requests under way per application."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def enter(self, exchange: Exchange, grant: KeyGrant) -> ProblemResponse | None:
        """Take a place, or the problem when the application's places are all taken (no cap:
        nothing counted)."""
        cap = grant.limits.max_in_flight
        if cap is None:
            return None
        application = grant.application_id
        under_way = self.counts.get(application, 0)
        if under_way >= cap:
            problem = refuse(
                exchange,
                IN_FLIGHT_CAP,
                f"Your application may have {cap} requests under way at once on this plan; "
                "wait for one to finish.",
            )
            problem.headers.append(("retry-after", "1"))
            return problem
        self.counts[application] = under_way + 1
        return None

    def leave(self, grant: KeyGrant) -> None:
        """Give back the place `enter` took."""
        if grant.limits.max_in_flight is None:
            return
        application = grant.application_id
        left = self.counts.get(application, 0) - 1
        if left > 0:
            self.counts[application] = left
        else:
            self.counts.pop(application, None)
