"""Clause 4.1 (the provider monitors use): a real serving gateway's GET /metrics, scraped after
real traffic and read with prometheus_client's own parser; only with the metrics token."""

from __future__ import annotations

import math

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.gateway.conftest import gateway_process, wait_for_status
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import issue_test_access

TOKEN = "metrics-" + "m" * 32
SERVED, REFUSED = 25, 7

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: httpx.AsyncClient, url: str) -> Samples:
    response = await client.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def upstream_buckets(samples: Samples) -> list[tuple[float, float]]:
    name = "termgate_upstream_request_duration_seconds_bucket"
    found = [
        (float(dict(labels)["le"]), count)
        for (sample, labels), count in samples.items()
        if sample == name
    ]
    return sorted(found)


async def test_clause_4_1_metrics_count_real_traffic_and_parse_as_prometheus_text(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions)
    async with (
        gateway_process(database_url, echo_upstream[1], metrics_token=TOKEN) as gateway,
        httpx.AsyncClient(timeout=10) as client,
    ):
        api = f"{gateway.url}/api/echo"
        await wait_for_status(client, api, access.key.key, 200, token=access.token.token)
        before = await scrape(client, gateway.url)
        for _ in range(SERVED):
            assert (await client.get(api, headers=access.headers)).status_code == 200
        for _ in range(REFUSED):  # no subscription key: 40100, clause 2
            assert (await client.get(api)).status_code == 401
        after = await scrape(client, gateway.url)

        missing = await client.get(f"{gateway.url}/metrics")
        wrong = await client.get(
            f"{gateway.url}/metrics", headers={"Authorization": "Bearer not-the-token"}
        )
    assert (missing.status_code, missing.json()["code"]) == (401, 40101)
    assert (wrong.status_code, wrong.json()["code"]) == (401, 40102)
    assert "termgate_gateway" not in missing.text + wrong.text

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("termgate_gateway_requests_total", status_class="2xx") == SERVED
    assert grew("termgate_gateway_requests_total", status_class="4xx") == REFUSED
    assert grew("termgate_gateway_refusals_total", code="40100", clause="2") == REFUSED
    assert grew("termgate_upstream_request_duration_seconds_count") == SERVED
    assert grew("termgate_upstream_request_duration_seconds_sum") > 0
    buckets = upstream_buckets(after)
    assert buckets[-1] == (
        math.inf,
        value(after, "termgate_upstream_request_duration_seconds_count"),
    )
    counts = [count for _, count in buckets]
    assert counts == sorted(counts)  # cumulative, as Prometheus reads them
    assert 0 <= value(after, "termgate_usage_buffer_events") <= SERVED + REFUSED + len(before)
    assert 0 <= value(after, "termgate_access_snapshot_age_seconds") < 5
    assert value(after, "termgate_limiter_errors_total") == 0
    assert value(after, "termgate_process_resident_memory_bytes") > 0
