"""The record of what the scheduler's jobs acted on: one row per job and item, unique."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.due_process import SchedulerRun
from termgate.db.models import new_id

NODE = f"{socket.gethostname()}:{os.getpid()}"[:100]


async def once(session: AsyncSession, job: str, item: str, now: datetime, outcome: str) -> None:
    """Records that `job` acted on `item`, in the act's transaction; a second record of the
    same item, by any node, fails (IntegrityError) and takes the act down with it."""
    session.add(
        SchedulerRun(
            id=new_id(),
            job=job,
            item=item[:200],
            node=NODE,
            started_at=now,
            finished_at=now,
            outcome=outcome[:2000],
        )
    )
    await session.flush()


async def done_items(session: AsyncSession, job: str, items: Iterable[str]) -> set[str]:
    """Those of `items` that `job` has acted on already."""
    wanted = list(items)
    if not wanted:
        return set()
    query = select(SchedulerRun.item).where(SchedulerRun.job == job, SchedulerRun.item.in_(wanted))
    return set(await session.scalars(query))


BATCH = 20  # due items one job acts on in one transaction
