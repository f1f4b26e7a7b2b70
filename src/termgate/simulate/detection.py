"""The detectors a simulation runs: every detector of the policy (terms/policy.toml) in
simulation mode, whatever mode the policy gives it: findings are recorded, nothing is enforced,
so a misuser keeps misusing and the report sees every detector's judgement of every party."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from termgate.monitoring.policy import DetectorPolicy, load_detector_policies
from termgate.monitoring.runner import DETECTORS, run_pass
from termgate.simulate.runner import DetectionPass


def simulated_policies(terms_dir: Path) -> dict[str, DetectorPolicy]:
    return {
        name: replace(policy, mode="simulate")
        for name, policy in load_detector_policies(terms_dir).items()
    }


def shortest_window(policies: dict[str, DetectorPolicy]) -> timedelta:
    """Passes at least this often see every request in some detector's window."""
    windows = [p.window for name, p in policies.items() if name in DETECTORS]
    return min(windows, default=timedelta(hours=1))


def detection_pass(policies: dict[str, DetectorPolicy]) -> DetectionPass:
    """One pass of every installed detector at a simulated moment; each detector waits its
    `every_minutes` between passes, as in `serve`."""
    last_runs: dict[str, datetime] = {}

    async def one_pass(session: AsyncSession, now: datetime) -> int:
        result = await run_pass(session, policies, now, last_runs)
        return len(result.findings)

    return one_pass


def installed(policies: dict[str, DetectorPolicy]) -> tuple[str, ...]:
    """The detectors of the policy that this termgate has (the others cannot find anything)."""
    return tuple(name for name in policies if name in DETECTORS)
