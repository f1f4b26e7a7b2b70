"""The programme's decisions reach the gateway within a second: suspension (clause 3.1) and the
re-acceptance deadline of amended terms (clause 9), with time moved by configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import Developer, Environment, Status, Subscription, SubscriptionKey
from termgate.registry.plans import change_limits, find_plan_ref
from termgate.registry.status import change_status
from termgate.registry.terms import accept_terms, current_terms, publish_terms
from termgate.settings import load_settings
from tests.gateway.conftest import gateway_process, wait_for_status
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import issue_test_access, issue_test_token
from tests.support.timing import within

ONE_MONTH = timedelta(days=31).total_seconds()


async def test_clause_3_1_suspended_application_is_refused_within_a_second_and_reinstated(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    access = await issue_test_access(sessions)
    issued, token = access.key, access.token.token
    async with gateway_process(database_url, echo_upstream[1]) as gateway:
        url = f"{gateway.url}/api/echo"
        await wait_for_status(client, url, issued.key, 200, token=token)
        async with sessions.begin() as session:
            await change_status(
                session,
                "application",
                issued.application_id,
                Status.SUSPENDED,
                "Scraping beyond the approved use case",
                "admin@provider.example",
            )
        assert await wait_for_status(client, url, issued.key, 403, token=token) < within(1.0)
        refused = await client.get(url, headers=access.headers)
        assert refused.json()["clause"] == "3.1"
        assert "application is suspended" in refused.json()["detail"]
        async with sessions.begin() as session:
            await change_status(
                session,
                "application",
                issued.application_id,
                Status.ACTIVE,
                "Cured within the notice period",
                "admin@provider.example",
            )
        assert await wait_for_status(client, url, issued.key, 200, token=token) < within(1.0)


async def test_clause_9_production_traffic_stops_after_the_deadline_until_accepted(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    production = await issue_test_access(sessions, environment=Environment.PRODUCTION)
    sandbox = await issue_test_access(sessions)
    settings = load_settings()
    async with sessions.begin() as session:
        current = await current_terms(session)
        assert current is not None
        await publish_terms(
            session,
            settings,
            version=f"{current.version}.1",
            title=current.title,
            body=current.body + "\n\nAmended.",
            change_summary="Amended.",
            actor="tests",
        )
    async with gateway_process(database_url, echo_upstream[1]) as gateway:
        # Before the deadline, a developer who has not accepted yet is still admitted.
        before = await client.get(f"{gateway.url}/api/echo", headers=production.headers)
        assert before.status_code == 200
    # A month later on the gateway's clock: past the 30-day re-acceptance deadline. The end
    # users' tokens of then are minted on that clock (an access token lives one hour).
    later = {"clock_offset_seconds": str(ONE_MONTH)}
    then = datetime.now(UTC) + timedelta(seconds=ONE_MONTH)
    production_token = await issue_test_token(sessions, production.key.application_id, now=then)
    sandbox_token = await issue_test_token(sessions, sandbox.key.application_id, now=then)
    async with gateway_process(database_url, echo_upstream[1], **later) as gateway:
        url = f"{gateway.url}/api/echo"
        refused = await client.get(url, headers=production_token.headers(production.key.key))
        assert refused.status_code == 403
        assert refused.json()["clause"] == "9"
        assert refused.json()["code"] == 40308
        sandbox_call = await client.get(url, headers=sandbox_token.headers(sandbox.key.key))
        assert sandbox_call.status_code == 200  # sandbox traffic stays
        async with sessions.begin() as session:
            developer = await session.get_one(Developer, production.key.developer_id)
            amended = await current_terms(session)
            assert amended is not None
            await accept_terms(session, developer, amended, "192.0.2.1", "tests")
        waited = await wait_for_status(
            client, url, production.key.key, 200, token=production_token.token
        )
        assert waited < within(1.0)


async def test_clause_3_3_e_a_plan_change_takes_effect_within_a_second(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    access = await issue_test_access(sessions)
    async with gateway_process(database_url, echo_upstream[1]) as gateway:
        url = f"{gateway.url}/api/echo?pageSize=20"
        await wait_for_status(client, url, access.key.key, 200, token=access.token.token)
        async with sessions.begin() as session:
            key = await session.get_one(SubscriptionKey, access.key.key_id)
            subscription = await session.get_one(Subscription, key.subscription_id)
            plan = await find_plan_ref(session, subscription.plan_id)
            await change_limits(session, plan, {"max_page_size": 10}, "admin@provider.example")
        waited = await wait_for_status(client, url, access.key.key, 400, token=access.token.token)
        assert waited < within(1.0)
        refused = await client.get(url, headers=access.headers)
        assert refused.json()["clause"] == "3.3 e"
        assert refused.json()["invalid-params"][0]["name"] == "pageSize"
