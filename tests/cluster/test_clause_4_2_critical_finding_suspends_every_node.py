"""Clause 4.2 in cluster mode: the detection worker of `serve` (one pass at a time across the
nodes, under a PostgreSQL advisory lock) turns cross-tenant probing into a critical finding and
suspends the application; both nodes refuse it within a second of the finding, and an honest
application beside it is still served."""

from __future__ import annotations

import asyncio
import time

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.engine import create_engine
from termgate.gateway.observe import UsageRecorder
from termgate.monitoring.findings import list_findings
from tests.gateway.conftest import Gateway, gateway_process
from tests.gateway.limits_support import private_redis, problem_of
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import IssuedAccess, issue_test_access, probing_events
from tests.support.timing import within
from tests.support.usage_rows import writer_row


async def _actioned_finding(sessions: async_sessionmaker[AsyncSession], deadline: float) -> str:
    while True:
        async with sessions() as session:
            found = await list_findings(session, detector="probing", state="actioned")
        if found:
            assert found[0].action is not None
            return found[0].action
        assert time.monotonic() < deadline, "no detection pass suspended the prober"
        await asyncio.sleep(0.02)


async def _refused(client: httpx.AsyncClient, node: Gateway, access: IssuedAccess) -> None:
    answer = await client.get(f"{node.url}/api/echo", headers=access.headers)
    problem_of(answer, 403, 40301, "3.1")


async def test_clause_4_2_critical_finding_suspends_on_every_node_within_a_second(
    cluster_database_url: str, cluster_sessions: async_sessionmaker[AsyncSession]
) -> None:
    prober = await issue_test_access(cluster_sessions)
    honest = await issue_test_access(cluster_sessions)
    upstream = EchoUpstream()
    upstream_url = f"http://127.0.0.1:{await upstream.start()}"
    try:
        with private_redis() as redis:
            common = {
                "limiter_backend": "redis",
                "redis_url": redis.url,
                "detect_interval_seconds": "0.3",
            }
            async with (
                gateway_process(cluster_database_url, upstream_url, **common) as first,
                gateway_process(cluster_database_url, upstream_url, **common) as second,
                httpx.AsyncClient(timeout=10) as client,
            ):
                for access in (prober, honest):
                    for node in (first, second):
                        answer = await client.get(f"{node.url}/api/echo", headers=access.headers)
                        assert answer.status_code == 200, answer.text
                # Through the usage writer, as a third node's: the two nodes' writers add to
                # the same hour's count meanwhile.
                engine = create_engine(cluster_database_url)
                writer = UsageRecorder(engine, flush_seconds=60, batch_size=500, buffer_limit=500)
                try:
                    await writer._insert([writer_row(e) for e in probing_events(prober, 300)])
                finally:
                    await engine.dispose()
                action = await _actioned_finding(cluster_sessions, time.monotonic() + 15)
                seen = time.monotonic()
                assert action.startswith(f"suspended application {prober.key.application_id}")
                for node in (first, second):
                    while True:
                        answer = await client.get(f"{node.url}/api/echo", headers=prober.headers)
                        if answer.status_code == 403:
                            break
                        assert time.monotonic() - seen < within(1.0), answer.text
                        await asyncio.sleep(0.02)
                    await _refused(client, node, prober)
                assert time.monotonic() - seen < within(1.0)
                for node in (first, second):
                    answer = await client.get(f"{node.url}/api/echo", headers=honest.headers)
                    assert answer.status_code == 200, answer.text
        async with cluster_sessions() as session:
            assert len(await list_findings(session, detector="probing")) == 1
    finally:
        await upstream.close()
