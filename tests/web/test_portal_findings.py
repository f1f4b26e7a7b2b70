"""Clause 4.1 in the portal: a developer sees the findings about their own applications, with
evidence, and nothing about other developers (not their findings, not their ids in evidence)."""

from __future__ import annotations

from sqlalchemy import select

from termgate.db.models import Developer
from termgate.monitoring.findings import FindingDraft, record_finding
from tests.web.conftest import Site
from tests.web.test_portal import sign_in, sign_up_and_verify


async def test_clause_4_1_developer_sees_own_findings_without_other_parties_data(
    site: Site,
) -> None:
    await sign_up_and_verify(site, "ann@example.nl")
    async with site.sessions.begin() as session:
        ann = await session.scalar(select(Developer).where(Developer.email == "ann@example.nl"))
        assert ann is not None
        now = site.settings.now()
        await record_finding(
            session,
            FindingDraft(
                "circumvention",
                "3.3 g",
                "major",
                ann.id,
                None,
                None,
                "circumvention",
                "sends from the same addresses as 1 other account(s)",
                {"other_accounts_at_same_addresses": ["bob-secret-id"], "requests": 321},
            ),
            now=now,
            simulated=False,
        )
        await record_finding(
            session,
            FindingDraft(
                "probing",
                "3.3 c",
                "major",
                "b" * 32,
                None,
                None,
                "probing",
                "someone else's finding",
                {},
            ),
            now=now,
            simulated=False,
        )
        await record_finding(
            session,
            FindingDraft(
                "harvest",
                "3.3 d",
                "major",
                ann.id,
                None,
                None,
                "harvest:employees",
                "a simulated finding",
                {},
            ),
            now=now,
            simulated=True,
        )
    await sign_in(site, "ann@example.nl")
    page = await site.client.get("/portal/findings")
    assert page.status_code == 200
    assert "sends from the same addresses" in page.text
    assert "321" in page.text
    assert "bob-secret-id" not in page.text
    assert "someone else" not in page.text
    assert "a simulated finding" not in page.text
    await site.client.post(
        "/portal/logout", data={"csrf_token": await site.csrf("/portal/findings")}
    )
    signed_out = await site.client.get("/portal/findings")
    assert signed_out.status_code == 303
