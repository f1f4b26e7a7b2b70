"""The scheduler: deadlines of the whole cluster acted on by one leader, each exactly once.

Leadership: on PostgreSQL the node that takes `pg_try_advisory_lock(LEADER_LOCK)` on a dedicated
connection leads while it holds that connection; if the process dies, the server drops the lock
with the connection and another node takes over at its next poll. On SQLite the single process
leads.

Exactly once: a job acts on a due item and writes its `scheduler_runs` row (unique per job and
item) in one transaction (`once`). A leader killed mid-run loses only its open transaction; the
next leader finds the item still due and acts on it; an item already acted on is either no longer
due (its state moved) or refused by the unique constraint, which rolls the second act back.

Jobs are `async def job(session, now) -> int`: they act on at most `BATCH` due items in the
session's transaction and return how many; the leader calls a job again, in a new
transaction, until it returns 0. Add a job by adding it to `JOBS`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from termgate.db.due_process import SchedulerJob, SchedulerRun
from termgate.due_process import jobs
from termgate.due_process.attestations import attestation_deadlines
from termgate.due_process.from_findings import FINDING_CASES, cases_from_findings
from termgate.due_process.incidents import incident_clocks
from termgate.due_process.runs import NODE
from termgate.due_process.verification import verification_deadlines
from termgate.notify.outbox import transaction
from termgate.settings import Settings

log = logging.getLogger(__name__)
LEADER_LOCK = 7_310_017  # advisory lock id of the scheduler's leadership
MAX_ROUNDS = 500  # calls of one job per tick: a job that never runs dry is stopped and logged
Job = Callable[[AsyncSession, datetime], Awaitable[int]]


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    run: Job
    what: str


JOBS: tuple[ScheduledJob, ...] = (
    ScheduledJob(
        FINDING_CASES,
        cases_from_findings,
        "opens or joins a case for each finding of the monitoring, as the policy says (4.2)",
    ),
    ScheduledJob(
        "cure-deadlines",
        jobs.escalate_uncured,
        "suspends the party of a case not cured by its deadline (clause 4.2)",
    ),
    ScheduledJob(
        "terminations",
        jobs.terminate_unremedied,
        "terminates a suspended case at its termination date (clause 6.2)",
    ),
    ScheduledJob(
        "cure-reminders",
        jobs.remind_cure_deadlines,
        "reminds developers days before a cure deadline (clause 4.2)",
    ),
    ScheduledJob(
        "terms-reminders",
        jobs.remind_terms_deadline,
        "reminds developers who have not accepted amended terms before the deadline (clause 9)",
    ),
    ScheduledJob(
        "maintenance-notices",
        jobs.notify_maintenance,
        "announces moved or extra maintenance windows in advance (clause 8)",
    ),
    ScheduledJob(
        "verification-deadlines",
        verification_deadlines,
        "escalates a verification request not answered by its deadline to a case (clause 4.3)",
    ),
    ScheduledJob(
        "incident-clocks",
        incident_clocks,
        "records an incident whose notification clock ran out (clause 5.1, GDPR Art. 33)",
    ),
    ScheduledJob(
        "attestation-deadlines",
        attestation_deadlines,
        "marks and reminds a terminated developer who has not attested deletion (clause 6.4)",
    ),
)


class Leadership:
    """Holds, or tries to take, the cluster's scheduler leadership."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.single = engine.dialect.name != "postgresql"
        self.connection: AsyncConnection | None = None

    async def hold(self) -> bool:
        if self.single:
            return True
        if self.connection is not None:
            try:
                await self.connection.execute(text("SELECT 1"))
                return True
            except DBAPIError:
                log.warning("scheduler: the leader's connection broke; leadership given up")
                await self.release()
                return False
        connection = await self.engine.connect()
        try:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            taken = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:id)"), {"id": LEADER_LOCK}
            )
        except BaseException:
            await connection.close()
            raise
        if not taken:
            await connection.close()
            return False
        log.info("scheduler: %s leads", NODE)
        self.connection = connection
        return True

    async def release(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                await connection.invalidate()
            finally:
                await connection.close()


class Scheduler:
    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        table: Iterable[ScheduledJob] = JOBS,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.table = tuple(table)
        self.leadership = Leadership(engine)
        self.period = timedelta(seconds=settings.scheduler_poll_seconds)

    async def run_job(self, job: ScheduledJob, now: datetime) -> int:
        """Every due item of one job, batch by batch; the outcome is kept for the console."""
        started, acted, error = self.settings.now(), 0, None
        try:
            for _ in range(MAX_ROUNDS):
                async with transaction(self.sessions, self.settings) as session:
                    done = await job.run(session, now)
                acted += done
                if done == 0:
                    break
            else:
                error = f"still finding due items after {MAX_ROUNDS} rounds"
        except IntegrityError:
            log.info("scheduler: %s: an item was acted on by another node; skipped", job.name)
        except (DBAPIError, OSError) as failure:  # the database away: one line, no traceback
            log.warning("scheduler: job %s could not run: %s", job.name, str(failure)[:300])
            error = f"{type(failure).__name__}: {failure}"[:2000]
        except Exception as failure:  # one failing job must not stop the others
            log.exception("scheduler: job %s failed", job.name)
            error = f"{type(failure).__name__}: {failure}"[:2000]
        await self._keep(job, started, acted, error)
        return acted

    async def _keep(
        self, job: ScheduledJob, started: datetime, acted: int, error: str | None
    ) -> None:
        now = self.settings.now()
        async with self.sessions.begin() as session:
            row = await session.get(SchedulerJob, job.name)
            if row is None:
                row = SchedulerJob(name=job.name, failures=0, last_acted=0, last_node="")
                session.add(row)
            row.last_started_at, row.last_finished_at = started, self.settings.now()
            row.last_node, row.last_acted = NODE, acted
            row.next_run_at = now + self.period
            row.last_error = error
            if error is not None:
                row.failures += 1
                row.last_failed_at = row.last_finished_at

    async def tick(self) -> dict[str, int]:
        """Runs every job, if this node leads; what each did. A job's queries find only what is
        due, so the leader runs them all at each poll (`scheduler_poll_seconds`)."""
        if not await self.leadership.hold():
            return {}
        now = self.settings.now()
        return {job.name: await self.run_job(job, now) for job in self.table}

    async def close(self) -> None:
        """Gives up the leadership (the next poll of another node takes it)."""
        await self.leadership.release()

    async def run_forever(self) -> None:
        try:
            while True:
                try:
                    await self.tick()
                except (DBAPIError, OSError) as error:
                    log.warning("scheduler: database unreachable: %s", str(error)[:300])
                    await self.leadership.release()
                await asyncio.sleep(self.settings.scheduler_poll_seconds)
        finally:
            await self.close()


async def job_states(session: AsyncSession) -> dict[str, SchedulerJob]:
    return {row.name: row for row in await session.scalars(select(SchedulerJob))}


async def recent_runs(session: AsyncSession, limit: int = 50) -> list[SchedulerRun]:
    query = select(SchedulerRun).order_by(SchedulerRun.finished_at.desc()).limit(limit)
    return list(await session.scalars(query))
