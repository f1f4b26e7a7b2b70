"""Clause 4.1 in the portal: a developer sees the findings about their own applications, with
evidence, and nothing about other developers (not their findings, not their ids in evidence)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from termgate.db.models import Developer, UsageEvent
from termgate.monitoring.findings import FindingDraft, record_finding
from termgate.registry.applications import create_application
from tests.support.factories import issue_test_token
from tests.support.usage_rows import add_with_summaries
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


async def test_clause_3_3_e_developer_sees_scopes_granted_against_used_and_what_to_ask_for(
    site: Site,
) -> None:
    await sign_up_and_verify(site, "cas@example.nl")
    async with site.sessions.begin() as session:
        cas = await session.scalar(select(Developer).where(Developer.email == "cas@example.nl"))
        assert cas is not None
        application = await create_application(session, cas, name="Leave sync", actor="tests")
        now = site.settings.now()
        add_with_summaries(
            session,
            [
                UsageEvent(
                    at=now - timedelta(days=40),
                    request_id="lp-1",
                    application_id=application.id,
                    developer_id=cas.id,
                    method="GET",
                    status=200,
                    latency_ms=3.0,
                    scope="employee.leave.read",
                )
            ],
        )
    await issue_test_token(
        site.sessions, application.id, scope="employee.leave.read company.info.read"
    )
    await sign_in(site, "cas@example.nl")
    page = await site.client.get("/portal/findings")
    report = page.text.split('id="least-privilege"')[1]
    row = report.split("Leave sync")[1].split("</tr>")[0]
    cells = row.split("<td>")
    assert "employee.leave.read" in cells[1]  # granted
    assert "company.info.read" in cells[1]
    assert "employee.leave.read" not in cells[2]  # not in the last 30 days
    assert "employee.leave.read" in cells[3]  # used in 90 days
    assert "company.info.read" in cells[4]  # unused
    assert "employee.leave.read" in cells[5]  # the narrower set
    assert "company.info.read" not in cells[5]
