"""One detection pass: every detector of the policy over its window, findings recorded, and a
critical finding of a detector in `enforce` mode suspends its party at once (clause 4.2: the
provider may intervene at once on a plausible risk).

The suspension takes the console's path (`registry.status.change_status`): status, audit entry,
notice to the developer, and the access-change feed, so every gateway node refuses the party
within its snapshot interval. In a cluster, one node runs a pass at a time: the pass holds a
PostgreSQL advisory lock for its transaction, and a node that cannot take it skips the round.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.errors import RegistryError
from termgate.db.models import Status
from termgate.db.monitoring import Finding, FindingState
from termgate.governance.sketch_hours import sketch_hours_over
from termgate.monitoring import (
    aggregate,
    aggregate_circumvention,
    aggregate_parties,
    aggregate_scopes,
    circumvention,
    harvest,
    least_privilege,
    probing,
    stability,
)
from termgate.monitoring.findings import (
    FindingDraft,
    closed_since,
    mark_actioned,
    record_finding,
)
from termgate.monitoring.policy import DetectorPolicy
from termgate.monitoring.window import Window
from termgate.registry.status import change_status
from termgate.settings import Settings

log = logging.getLogger(__name__)
DETECT_LOCK = 7_310_012  # advisory lock id of a detection pass

Aggregate = Callable[[AsyncSession, Window, DetectorPolicy], Awaitable[Sequence[Any]]]
WindowAggregate = Callable[[AsyncSession, Window], Awaitable[Sequence[Any]]]
Detect = Callable[[Sequence[Any], DetectorPolicy, Window], list[FindingDraft]]


def _window_only(aggregate_rows: WindowAggregate) -> Aggregate:
    """An aggregate whose rows do not depend on the policy's thresholds."""

    async def rows(session: AsyncSession, window: Window, _policy: DetectorPolicy) -> Sequence[Any]:
        return await aggregate_rows(session, window)

    return rows


# Circumvention's aggregate takes the policy: its shared end users and addresses are counted, as
# they are read, over the applications with `min_requests` (shared_parties).
DETECTORS: dict[str, tuple[Aggregate, Detect]] = {
    probing.NAME: (_window_only(aggregate.refusal_counts), probing.detect),
    stability.NAME: (_window_only(aggregate.application_loads), stability.detect),
    harvest.NAME: (_window_only(aggregate_parties.read_volumes), harvest.detect),
    circumvention.NAME: (aggregate_circumvention.observations, circumvention.detect),
    least_privilege.NAME: (_window_only(aggregate_scopes.scope_use), least_privilege.detect),
}


@dataclass
class PassResult:
    ran: bool = True
    findings: list[Finding] = field(default_factory=list)
    suspended: list[str] = field(default_factory=list)


async def _take_lock(session: AsyncSession) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: one node, one writer
    taken = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": DETECT_LOCK})
    return bool(taken)


def _target(finding: Finding) -> tuple[str, str] | None:
    """The party a critical finding suspends: the application, else the key, else the account."""
    if finding.application_id:
        return "application", finding.application_id
    if finding.key_id:
        return "key", finding.key_id
    if finding.developer_id:
        return "developer", finding.developer_id
    return None


async def enforce(session: AsyncSession, finding: Finding, now: datetime) -> str | None:
    """Suspend the party of a critical finding and mark the finding actioned, saying so."""
    target = _target(finding)
    if target is None or finding.state != FindingState.OPEN.value:
        return None
    kind, party_id = target
    actor = f"detector:{finding.detector}"
    reason = (
        f"clause 4.2, plausible risk: critical {finding.detector} finding {finding.id} "
        f"(clause {finding.clause}): {finding.summary}"
    )
    try:
        await change_status(session, kind, party_id, Status.SUSPENDED, reason, actor)
        action = f"suspended {kind} {party_id} (clause 4.2, plausible risk)"
    except RegistryError as refused:
        action = f"{kind} {party_id} not suspended: {refused}"
    await mark_actioned(session, finding.id, action=action, actor=actor, now=now)
    return action


async def run_pass(
    session: AsyncSession,
    policies: dict[str, DetectorPolicy],
    now: datetime,
    last_runs: dict[str, datetime] | None = None,
) -> PassResult:
    """Run every detector of the policy once, inside the caller's transaction; with `last_runs`
    (kept by a worker between passes), a detector whose `every_minutes` has not passed waits."""
    if not await _take_lock(session):
        return PassResult(ran=False)
    result = PassResult()
    for name, policy in policies.items():
        if name not in DETECTORS:
            continue
        if last_runs is not None:
            last = last_runs.get(name)
            if last is not None and now - last < policy.every:
                continue
            last_runs[name] = now
        aggregate_rows, detect = DETECTORS[name]
        window = Window(now - policy.window, now)
        for draft in detect(await aggregate_rows(session, window, policy), policy, window):
            if await closed_since(session, draft, window.start):
                continue
            finding = await record_finding(session, draft, now=now, simulated=policy.simulated)
            result.findings.append(finding)
            if finding.severity == "critical" and not policy.simulated:
                action = await enforce(session, finding, now)
                if action is not None and action.startswith("suspended"):
                    result.suspended.append(action)
    return result


async def detect_forever(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    policies: dict[str, DetectorPolicy],
) -> None:
    """`serve`'s worker: a pass every `detect_interval_seconds`; failures are logged, not fatal."""
    last_runs: dict[str, datetime] = {}

    async def detect() -> None:
        async with sessions.begin() as session:
            result = await run_pass(session, policies, settings.now(), last_runs)
        if result.suspended:
            log.warning("detection suspended: %s", "; ".join(result.suspended))

    while True:
        await asyncio.sleep(settings.detect_interval_seconds)
        await _logged("detection pass", detect())
        # The usage pages' distinct objects of the hours that are over (clause 4.1).
        await _logged("sketching the usage hours", sketch_hours_over(sessions, settings.now()))


async def _logged(what: str, work: Awaitable[Any]) -> None:
    """Run `work`; its failure is logged, not fatal to the worker."""
    try:
        await work
    except (DBAPIError, OSError) as error:
        log.warning("%s skipped, the database cannot be used: %s", what, error)
    except Exception:  # a bug must not end the worker
        log.exception("%s failed", what)
