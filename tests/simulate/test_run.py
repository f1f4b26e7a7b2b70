"""A short simulated run through the real gateway: the parties are made through the registry and
the OAuth flow, the traffic reaches the gateway (one usage event per call, at simulated times),
and the labels say who played what."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from termgate.db.models import UsageEvent
from termgate.simulate.labels import RunLabels
from termgate.simulate.runner import RunConfig, run

KINDS = ("nightly_sync", "fast_harvester", "prober", "credential_stuffer")


@pytest.mark.timeout(300)  # a gateway, the reference API and OAuth sign-ins on a loaded machine
async def test_clause_4_1_a_short_run_plays_labelled_traffic_through_the_gateway(
    database_url: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    config = RunConfig(
        seed=11,
        days=2,
        database_url=database_url,
        labels_path=tmp_path / "labels.json",
        scale=0.1,
        employees=100,
        kinds=KINDS,
    )
    written = await run(config, detect=None)
    labels = RunLabels.read(config.labels_path)
    assert labels == written
    by_kind = {party.kind: party for party in labels.parties}
    assert sorted(by_kind) == sorted(KINDS)
    assert len(labels.parties) == len(KINDS) + 1  # honest kinds come twice
    assert by_kind["nightly_sync"].honest
    assert not by_kind["nightly_sync"].detectors
    assert by_kind["fast_harvester"].detectors == ["harvest"]
    assert by_kind["prober"].detectors == ["probing"]

    async with sessions() as session:
        for party in labels.parties:
            events = await session.scalar(
                select(func.count()).where(UsageEvent.application_id.in_(party.application_ids))
            )
            # Every call reached the gateway and became one usage event of its party.
            assert events == party.usage_events == party.gateway_calls, party.scenario
        first, last = (
            await session.execute(select(func.min(UsageEvent.at), func.max(UsageEvent.at)))
        ).one()
    # The events carry the simulated clock: days ahead of now, within the run.
    assert datetime.fromisoformat(labels.origin) <= first <= last
    assert last <= datetime.fromisoformat(labels.end)

    assert by_kind["nightly_sync"].gateway_calls > 0
    assert set(by_kind["nightly_sync"].statuses) == {"200"}
    # The prober is refused for ids outside its consent and for tokens that are not tokens.
    assert {"401", "403"} <= set(by_kind["prober"].statuses)
    # The credential stuffer only ever met the sign-in page, never the gateway.
    stuffer = by_kind["credential_stuffer"]
    assert stuffer.requests > 0
    assert stuffer.gateway_calls == stuffer.usage_events == 0
