"""Clauses 2 and 3.1 in cluster mode (docs/architecture.md): a key revoked and a developer,
subscription or key suspended through one node's admin API is refused by the other node within a
second, with the exact problem code; a reinstated developer is served again on both."""

from __future__ import annotations

import asyncio
import time

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import SubscriptionKey
from termgate.registry.admins import create_administrator, issue_admin_token
from tests.gateway.conftest import Gateway, gateway_process
from tests.gateway.limits_support import private_redis, problem_of
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import IssuedAccess, issue_test_access
from tests.support.timing import within


async def _admin_token(sessions: async_sessionmaker[AsyncSession]) -> str:
    async with sessions.begin() as session:
        admin = await create_administrator(
            session, email="ops-access@example.nl", name="Ops", password="correct horse 42"
        )
        return await issue_admin_token(session, admin, "cluster test")


async def _refused_within_a_second(
    client: httpx.AsyncClient, node: Gateway, access: IssuedAccess, status: int, code: int
) -> None:
    started = time.monotonic()
    while True:
        answer = await client.get(f"{node.url}/api/echo", headers=access.headers)
        if answer.status_code == status and answer.json().get("code") == code:
            break
        assert time.monotonic() - started < within(1.0), answer.text
        await asyncio.sleep(0.02)
    assert time.monotonic() - started < within(1.0)


async def test_clause_2_3_1_revocation_and_suspensions_reach_the_other_node(
    cluster_database_url: str, cluster_sessions: async_sessionmaker[AsyncSession]
) -> None:
    accesses = [await issue_test_access(cluster_sessions) for _ in range(4)]
    async with cluster_sessions() as session:
        subscription_id = (
            await session.get_one(SubscriptionKey, accesses[2].key.key_id)
        ).subscription_id
    auth = {"Authorization": f"Bearer {await _admin_token(cluster_sessions)}"}
    changes = [
        (f"keys/{accesses[0].key.key_id}/revoke", 401, 40100),
        (f"developers/{accesses[1].key.developer_id}/suspend", 403, 40301),
        (f"subscriptions/{subscription_id}/suspend", 403, 40301),
        (f"keys/{accesses[3].key.key_id}/suspend", 403, 40301),
    ]
    upstream = EchoUpstream()
    upstream_url = f"http://127.0.0.1:{await upstream.start()}"
    try:
        with private_redis() as redis:
            common = {"limiter_backend": "redis", "redis_url": redis.url}
            async with (
                gateway_process(cluster_database_url, upstream_url, **common) as first,
                gateway_process(cluster_database_url, upstream_url, **common) as second,
                httpx.AsyncClient(timeout=10) as client,
            ):
                for access in accesses:
                    for node in (first, second):
                        answer = await client.get(f"{node.url}/api/echo", headers=access.headers)
                        assert answer.status_code == 200, answer.text
                for access, (path, status, code) in zip(accesses, changes, strict=True):
                    answer = await client.post(
                        f"{first.url}/admin/api/{path}", json={"reason": "probe"}, headers=auth
                    )
                    assert answer.status_code == 200, answer.text
                    await _refused_within_a_second(client, second, access, status, code)
                refused = await client.get(f"{first.url}/api/echo", headers=accesses[1].headers)
                problem_of(refused, 403, 40301, "3.1")
                answer = await client.post(
                    f"{first.url}/admin/api/developers/{accesses[1].key.developer_id}/reinstate",
                    json={"reason": "cured"},
                    headers=auth,
                )
                assert answer.status_code == 200, answer.text
                await asyncio.sleep(1.0)
                for node in (first, second):
                    answer = await client.get(f"{node.url}/api/echo", headers=accesses[1].headers)
                    assert answer.status_code == 200, answer.text
    finally:
        await upstream.close()
