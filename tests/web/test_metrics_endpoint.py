"""Clause 4.1: GET /metrics is off (404) unless a metrics token is configured and the gateway
serves in this process; the control plane alone has no gateway figures to show."""

from __future__ import annotations

from tests.web.conftest import Site


async def test_clause_4_1_metrics_are_off_without_a_token(site: Site) -> None:
    assert site.settings.metrics_token is None
    response = await site.client.get("/metrics", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 404
    assert "termgate_" not in response.text
