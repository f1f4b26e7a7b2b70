"""Clause 4.1 in the admin API: findings listed by filter, read with their evidence, dismissed
with a reason; bad input is a problem naming the field and changes nothing."""

from __future__ import annotations

from termgate.monitoring.findings import FindingDraft, get_finding, record_finding
from tests.web.conftest import Site, seed_programme

API = "/admin/api"


async def seed(site: Site, developer_id: str, application_id: str) -> tuple[str, str]:
    now = site.settings.now()
    async with site.sessions.begin() as session:
        probe = await record_finding(
            session,
            FindingDraft(
                "probing",
                "3.3 c",
                "major",
                developer_id,
                application_id,
                None,
                "probing:application",
                "60 of 80 requests refused",
                {"requests": 80, "refused": 60, "sample_request_ids": ["r1", "r2"]},
            ),
            now=now,
            simulated=False,
        )
        harvest = await record_finding(
            session,
            FindingDraft(
                "harvest",
                "3.3 d",
                "critical",
                developer_id,
                None,
                None,
                "harvest:employees",
                "read 5000 employees for 1 end user",
                {"distinct_employees": 5000},
            ),
            now=now,
            simulated=True,
        )
    return probe.id, harvest.id


async def test_clause_4_1_admin_api_lists_filters_reads_and_dismisses_findings(site: Site) -> None:
    programme = await seed_programme(site)
    probe, harvest = await seed(site, programme.developer_id, programme.application_id)
    client, auth = site.client, programme.auth

    listed = (await client.get(f"{API}/findings", headers=auth)).json()
    assert {f["id"] for f in listed["data"]} == {probe, harvest}
    assert listed["pagination"]["totalRecords"] == 2
    by_detector = (await client.get(f"{API}/findings?detector=harvest", headers=auth)).json()
    assert [f["id"] for f in by_detector["data"]] == [harvest]
    critical = (await client.get(f"{API}/findings?severity=critical", headers=auth)).json()
    assert [f["simulated"] for f in critical["data"]] == [True]
    by_application = await client.get(
        f"{API}/findings?applicationId={programme.application_id}", headers=auth
    )
    assert [f["id"] for f in by_application.json()["data"]] == [probe]

    one = (await client.get(f"{API}/findings/{probe}", headers=auth)).json()
    assert one["evidence"]["sample_request_ids"] == ["r1", "r2"]
    assert (one["clause"], one["state"], one["occurrences"]) == ("3.3 c", "open", 1)

    dismissed = await client.post(
        f"{API}/findings/{probe}/dismiss", json={"reason": "a load test we ran"}, headers=auth
    )
    assert dismissed.status_code == 200, dismissed.text
    assert (dismissed.json()["state"], dismissed.json()["stateReason"]) == (
        "dismissed",
        "a load test we ran",
    )
    open_only = (await client.get(f"{API}/findings?state=open", headers=auth)).json()
    assert [f["id"] for f in open_only["data"]] == [harvest]


async def test_clause_4_1_admin_api_refuses_bad_finding_requests_and_changes_nothing(
    site: Site,
) -> None:
    programme = await seed_programme(site)
    probe, _ = await seed(site, programme.developer_id, programme.application_id)
    client, auth = site.client, programme.auth

    bad_state = await client.get(f"{API}/findings?state=closed", headers=auth)
    assert bad_state.status_code == 400
    assert bad_state.headers["content-type"].startswith("application/problem+json")
    assert bad_state.json()["clause"] == "4.1"
    assert "state" in {p["name"] for p in bad_state.json()["invalid-params"]}
    bad_since = await client.get(f"{API}/findings?since=yesterday", headers=auth)
    assert bad_since.status_code == 400
    missing = await client.get(f"{API}/findings/nope", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["clause"] == "4.1"
    for body in ({}, {"reason": "   "}, {"reason": "x", "extra": 1}, {"reason": 5}):
        refused = await client.post(f"{API}/findings/{probe}/dismiss", json=body, headers=auth)
        assert refused.status_code == 400, (body, refused.text)
        assert refused.json()["clause"] == "4.1"
    async with site.sessions() as session:
        assert (await get_finding(session, probe)).state == "open"
    done = await client.post(f"{API}/findings/{probe}/dismiss", json={"reason": "ok"}, headers=auth)
    assert done.status_code == 200
    again = await client.post(
        f"{API}/findings/{probe}/dismiss", json={"reason": "ok"}, headers=auth
    )
    assert again.status_code == 409
    assert "already dismissed" in again.json()["detail"]
