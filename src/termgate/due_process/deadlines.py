"""The deadline jobs of verification, incidents and attestations, for the scheduler's leader.

Each job is `async def job(session, now) -> int` (the items it acted on) and is idempotent: an
item acted on is marked, so a second run at the same moment does nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from termgate.due_process.attestations import attestation_deadlines
from termgate.due_process.incidents import incident_clocks
from termgate.due_process.verification import verification_deadlines

Job = Callable[[AsyncSession, datetime], Awaitable[int]]


async def overdue_verifications(session: AsyncSession, now: datetime) -> int:
    return await verification_deadlines(session, now)


def due_jobs() -> dict[str, Job]:
    """The jobs by name, as the scheduler's job table takes them."""
    return {
        "verification-deadlines": overdue_verifications,
        "incident-clocks": incident_clocks,
        "attestation-deadlines": attestation_deadlines,
    }


async def run_due_jobs(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Every job once, in one transaction (the caller's)."""
    return {name: await job(session, now) for name, job in due_jobs().items()}
