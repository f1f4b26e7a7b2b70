"""Clause 4.1 in the console: findings filtered by state, detector, severity and party; a finding
with its evidence, the chart of the party's traffic and sample request ids; dismissal needs a
reason, and a refused dismissal changes nothing."""

from __future__ import annotations

from datetime import timedelta

from termgate.db.models import UsageEvent
from termgate.monitoring.findings import FindingDraft, get_finding, record_finding
from termgate.monitoring.window import Window
from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Site, seed_programme


async def test_clause_4_1_console_shows_a_finding_with_chart_and_evidence_and_dismisses_it(
    site: Site,
) -> None:
    programme = await seed_programme(site)
    now = site.settings.now()
    window = Window(now - timedelta(hours=1), now)
    async with site.sessions.begin() as session:
        session.add_all(
            UsageEvent(
                at=now - timedelta(minutes=50 - i // 10),
                request_id=f"req-{i}",
                application_id=programme.application_id,
                developer_id=programme.developer_id,
                method="GET",
                status=403 if i % 2 else 200,
                code=40303 if i % 2 else None,
                latency_ms=5.0,
            )
            for i in range(100)
        )
        probe = await record_finding(
            session,
            FindingDraft(
                "probing",
                "3.3 c",
                "major",
                programme.developer_id,
                programme.application_id,
                None,
                "probing:application",
                "50 of 100 requests named tenants outside the consent",
                window.evidence(
                    requests=100, foreign_tenant=50, sample_request_ids=["req-99", "req-97"]
                ),
            ),
            now=now,
            simulated=False,
        )
        other = await record_finding(
            session,
            FindingDraft(
                "stability",
                "3.3 f",
                "minor",
                "x" * 32,
                "y" * 32,
                None,
                "stability",
                "12 minutes in a row with 16 or more requests under way",
                window.evidence(),
            ),
            now=now,
            simulated=True,
        )
    signed_in = await site.post_form(
        "/console/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert signed_in.status_code == 303

    listing = await site.client.get("/console/findings")
    assert probe.id in listing.text
    assert other.id in listing.text
    by_detector = await site.client.get("/console/findings?detector=stability")
    assert other.id in by_detector.text
    assert probe.id not in by_detector.text
    by_party = await site.client.get(f"/console/findings?party={programme.application_id}")
    assert probe.id in by_party.text
    assert other.id not in by_party.text
    by_severity = await site.client.get("/console/findings?severity=critical&state=open")
    assert probe.id not in by_severity.text

    shown = await site.client.get(f"/console/findings/{probe.id}")
    assert shown.status_code == 200
    assert "<svg" in shown.text
    assert "100 requests, 50 refused" in shown.text
    assert "req-99" in shown.text
    assert "foreign tenant" in shown.text
    chart = await site.client.get(f"/console/findings/{probe.id}/chart.svg")
    assert chart.headers["content-type"] == "image/svg+xml"
    assert chart.text.startswith("<svg")

    blank = await site.post_form(
        f"/console/findings/{probe.id}/dismiss",
        {"reason": " "},
        form_page=f"/console/findings/{probe.id}",
    )
    assert blank.status_code == 400
    assert "give a reason" in blank.text
    async with site.sessions() as session:
        assert (await get_finding(session, probe.id)).state == "open"
    done = await site.post_form(
        f"/console/findings/{probe.id}/dismiss",
        {"reason": "our own penetration test"},
        form_page=f"/console/findings/{probe.id}",
    )
    assert done.status_code == 303
    page = await site.client.get(f"/console/findings/{probe.id}")
    assert "dismissed: our own penetration test" in page.text
    assert "Dismiss as a false positive" not in page.text
    missing = await site.client.get("/console/findings/nope")
    assert missing.status_code == 404
