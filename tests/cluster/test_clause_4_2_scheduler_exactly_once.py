"""Clause 4.2 deadlines in cluster mode: two nodes on PostgreSQL, one scheduler leader (the
advisory lock). Overdue cases appear once both nodes run; the leader is killed (SIGKILL) in the
middle of escalating them; the
other node takes over, and every case is escalated exactly once: one scheduler record, one
suspension in the audit chain, one notice. A restarted node acts on nothing again."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.audit import verify_chain
from termgate.db.due_process import Case, SchedulerRun
from termgate.db.models import Application, Status, utcnow
from termgate.db.programme import AuditEntry, InboxMessage
from termgate.due_process.cases import open_case
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from tests.conftest import free_port
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import TEST_ISSUER, forget_foreign_signing_keys, seal_in_tests
from tests.support.processes import gateway_env, kill_hard, serving

CASES = 100
JOB = "cure-deadlines"


async def _overdue_cases(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    eleven_days_ago = utcnow() - timedelta(days=11)
    async with sessions.begin() as session:
        developer = await create_developer(
            session, email="harvester@example.nl", name="Harvester", actor="tests"
        )
        ids = []
        for number in range(CASES):
            application = await create_application(
                session, developer, name=f"Harvest {number}", actor="tests"
            )
            case = await open_case(
                session,
                developer_id=developer.id,
                application_id=application.id,
                clauses=["3.3 d"],
                summary=f"bulk reads by application {number}",
                actor="tests",
                now=eleven_days_ago,
            )
            ids.append(case.id)
    return ids


async def _runs(sessions: async_sessionmaker[AsyncSession]) -> list[SchedulerRun]:
    async with sessions() as session:
        return list(await session.scalars(select(SchedulerRun).where(SchedulerRun.job == JOB)))


@pytest.mark.timeout(300)  # three node starts, each several seconds on a busy machine
async def test_clause_4_2_each_deadline_once_with_two_nodes_and_a_killed_leader(
    cluster_database_url: str, cluster_sessions: async_sessionmaker[AsyncSession]
) -> None:
    upstream = EchoUpstream()
    upstream_url = f"http://127.0.0.1:{await upstream.start()}"
    await forget_foreign_signing_keys(cluster_database_url, seal_in_tests())

    def node() -> tuple[list[str], str, dict[str, str]]:
        port = free_port()
        env = gateway_env(
            cluster_database_url,
            port,
            upstream_url,
            public_url=TEST_ISSUER,
            scheduler_poll_seconds="0.1",
            log_level="error",
        )
        return ["-m", "termgate.server"], f"http://127.0.0.1:{port}/healthz", env

    try:
        async with serving(*node()) as first, serving(*node()) as second:
            processes = {first.pid: first, second.pid: second}
            cases = await _overdue_cases(cluster_sessions)  # due the moment they are committed
            started = time.monotonic()
            while not (runs := await _runs(cluster_sessions)):
                assert time.monotonic() - started < 30, "no node took the leadership"
                await asyncio.sleep(0.005)
            assert len(runs) < CASES, "the leader finished before it could be killed"
            leader_pid = int(runs[0].node.rsplit(":", 1)[1])
            kill_hard(processes[leader_pid])
            killed_at = len(await _runs(cluster_sessions))
            while len(runs := await _runs(cluster_sessions)) < CASES:
                assert time.monotonic() - started < 60, f"{len(runs)} of {CASES} acted on"
                await asyncio.sleep(0.1)
            nodes = Counter(int(run.node.rsplit(":", 1)[1]) for run in runs)
            assert set(nodes) == {first.pid, second.pid}, (nodes, killed_at)

        # A restarted node finds nothing left to do.
        async with serving(*node()):
            await asyncio.sleep(1.5)
    finally:
        await upstream.close()

    async with cluster_sessions() as session:
        runs = await _runs(cluster_sessions)
        assert sorted(run.item.split("@")[0] for run in runs) == sorted(cases)
        states = Counter(await session.scalars(select(Case.state)))
        assert states == {"suspended": CASES}
        suspended = await session.scalar(
            select(func.count()).where(Application.status == Status.SUSPENDED)
        )
        assert suspended == CASES
        per_case = Counter(
            await session.scalars(
                select(AuditEntry.entity_id).where(AuditEntry.action == "case-suspend")
            )
        )
        assert per_case == dict.fromkeys(cases, 1)
        notices = await session.scalar(
            select(func.count()).where(InboxMessage.kind == "case-suspended")
        )
        assert notices == CASES
        assert await verify_chain(session) is None
