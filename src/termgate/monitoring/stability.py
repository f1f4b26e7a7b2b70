"""Stability (clause 3.3 f): sustained concurrency or payload that degrades the API for others.

Per application and minute: the requests under way on average (the sum of latencies over the
minute, Little's law), the bytes carried, and the most requests that arrived in one second of it.
The last catches a client that stays under its per-minute rate limit by sending the whole
minute's allowance at once: hundreds of requests that hold the gateway's and the API's
connections together, so everyone else's wait behind them (the latency the gateway measures
starts when it reads a request, so that queue does not show in the first measure). A burst is
normal; what the clause forbids is load kept up: a finding needs a run of consecutive minutes over
a threshold, and only a long run far over the concurrency one is critical.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from termgate.monitoring.findings import FindingDraft
from termgate.monitoring.policy import DetectorPolicy
from termgate.monitoring.window import Party, Window

NAME = "stability"


@dataclass(frozen=True)
class MinuteLoad:
    minute: int  # minutes since the epoch
    requests: int
    concurrency: float  # requests under way on average in that minute
    bytes: int  # in and out
    peak_per_second: int = 0  # the most requests that arrived in one second of the minute


@dataclass(frozen=True)
class ApplicationLoad:
    party: Party
    minutes: list[MinuteLoad]  # in order, only the minutes with traffic
    sample_request_ids: list[str] = field(default_factory=list)


def longest_run(minutes: Sequence[MinuteLoad], over: float, attribute: str) -> int:
    """The longest run of consecutive minutes whose load exceeds `over`."""
    best = run = 0
    previous: int | None = None
    for load in minutes:
        if float(getattr(load, attribute)) >= over:
            run = run + 1 if previous is not None and load.minute == previous + 1 else 1
            previous = load.minute
            best = max(best, run)
        else:
            run, previous = 0, None
    return best


def detect(
    rows: Sequence[ApplicationLoad], policy: DetectorPolicy, window: Window
) -> list[FindingDraft]:
    drafts = []
    sustained = policy.value("sustained_minutes")
    for row in rows:
        if not row.minutes:
            continue
        concurrency_run = longest_run(row.minutes, policy.at_least("concurrency"), "concurrency")
        bytes_run = longest_run(row.minutes, policy.at_least("bytes_per_minute"), "bytes")
        burst = policy.at_least("burst_per_second")
        burst_run = longest_run(row.minutes, burst, "peak_per_second")
        signals = []
        if concurrency_run >= sustained:
            signals.append(
                f"{concurrency_run} minutes in a row with {policy.at_least('concurrency'):g} "
                "or more requests under way"
            )
        if bytes_run >= sustained:
            signals.append(
                f"{bytes_run} minutes in a row moving {policy.at_least('bytes_per_minute'):.0f} "
                "bytes or more a minute"
            )
        if burst_run >= sustained:
            signals.append(
                f"{burst_run} minutes in a row with {burst:g} or more requests sent in one second "
                "(the minute's allowance at once)"
            )
        if not signals:
            continue
        critical = longest_run(
            row.minutes, policy.critical("critical_concurrency"), "concurrency"
        ) >= policy.critical("critical_minutes")
        drafts.append(
            FindingDraft(
                detector=NAME,
                clause=policy.clause,
                severity="critical" if critical else policy.severity,
                developer_id=row.party.developer_id,
                application_id=row.party.application_id,
                key_id=row.party.key_id,
                subject=NAME,
                summary="; ".join(signals),
                evidence=window.evidence(
                    peak_concurrency=round(max(m.concurrency for m in row.minutes), 2),
                    peak_bytes_per_minute=max(m.bytes for m in row.minutes),
                    longest_concurrency_run_minutes=concurrency_run,
                    longest_bytes_run_minutes=bytes_run,
                    peak_requests_per_second=max(m.peak_per_second for m in row.minutes),
                    longest_burst_run_minutes=burst_run,
                    requests=sum(m.requests for m in row.minutes),
                    sample_request_ids=row.sample_request_ids[:10],
                ),
            )
        )
    return drafts
