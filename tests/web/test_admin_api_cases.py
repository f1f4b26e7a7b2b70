"""Clause 4.2 through the admin API: open a case, read its timeline, decide; bad input is a 400
naming the field, a step the case's state does not allow a 409, and neither changes anything."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from termgate.core.audit import verify_chain
from termgate.db.due_process import Case, CaseEvent
from termgate.db.models import Application, Status
from termgate.db.programme import AuditEntry
from tests.web.conftest import Programme, Site, seed_programme


@pytest.fixture
async def programme(site: Site) -> Programme:
    return await seed_programme(site)


async def _counts(site: Site) -> tuple[int, int, int]:
    async with site.sessions() as session:
        found = []
        for model in (Case, CaseEvent, AuditEntry):
            found.append(int(await session.scalar(select(func.count()).select_from(model)) or 0))
        return found[0], found[1], found[2]


def _draft(programme: Programme, **change: object) -> dict[str, object]:
    return {
        "developerId": programme.developer_id,
        "applicationId": programme.application_id,
        "clauses": ["3.3 f"],
        "summary": "40 GB in one hour",
    } | change


BAD = [
    ({"clauses": []}, "clauses"),
    ({"clauses": ["99.9"]}, "clauses"),
    ({"clauses": "3.3 f"}, "clauses"),
    ({"summary": " "}, "summary"),
    ({"cureDays": 91}, "cureDays"),
    ({"cureDays": "10"}, "cureDays"),
    ({"developerId": "nobody"}, "developerId"),
    ({"applicationId": "nothing"}, "applicationId"),
    ({"findingIds": ["no/slash"]}, "findingIds.0"),
    ({"colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("change", "name"), BAD, ids=[name for _, name in BAD])
async def test_clause_4_2_a_bad_case_is_a_400_naming_the_field(
    site: Site, programme: Programme, change: dict[str, object], name: str
) -> None:
    before = await _counts(site)
    answer = await site.client.post(
        "/admin/api/cases", json=_draft(programme, **change), headers=programme.auth
    )
    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert problem["clause"] == "4.2"
    assert name in [p["name"] for p in problem["invalid-params"]], problem
    assert await _counts(site) == before


async def test_clause_4_2_open_read_extend_escalate_accept_close(
    site: Site, programme: Programme
) -> None:
    auth = programme.auth
    opened = await site.client.post("/admin/api/cases", json=_draft(programme), headers=auth)
    assert opened.status_code == 201, opened.text
    case = opened.json()
    assert case["state"] == "noticed"
    assert [e["kind"] for e in case["timeline"]] == ["opened", "notice", "case-notice"]
    base = f"/admin/api/cases/{case['id']}"

    extended = await site.client.post(
        f"{base}/extend", json={"days": 5, "reason": "asked nicely"}, headers=auth
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["cureDeadline"] > case["cureDeadline"]
    bad_days = await site.client.post(
        f"{base}/extend", json={"days": 0, "reason": "x"}, headers=auth
    )
    assert bad_days.status_code == 400
    assert bad_days.json()["invalid-params"][0]["name"] == "days"

    escalated = await site.client.post(
        f"{base}/escalate", json={"reason": "no reply"}, headers=auth
    )
    assert escalated.json()["state"] == "suspended"
    async with site.sessions() as session:
        application = await session.get_one(Application, programme.application_id)
        assert application.status is Status.SUSPENDED

    before = await _counts(site)
    refused = await site.client.post(
        f"{base}/extend", json={"days": 3, "reason": "x"}, headers=auth
    )
    assert refused.status_code == 409
    assert "suspended cannot be given 'extend'" in refused.json()["detail"]
    assert await _counts(site) == before

    accepted = await site.client.post(f"{base}/accept", json={"reason": "fixed"}, headers=auth)
    assert accepted.json()["state"] == "cured"
    closed = await site.client.post(f"{base}/close", json={"reason": "done"}, headers=auth)
    assert closed.json()["state"] == "closed"
    listed = await site.client.get("/admin/api/cases?state=closed", headers=auth)
    assert [c["id"] for c in listed.json()["data"]] == [case["id"]]
    assert (await site.client.get("/admin/api/cases?state=odd", headers=auth)).status_code == 400
    missing = await site.client.post(
        "/admin/api/cases/nope/accept", json={"reason": "x"}, headers=auth
    )
    assert missing.status_code == 404
    async with site.sessions() as session:
        application = await session.get_one(Application, programme.application_id)
        assert application.status is Status.ACTIVE
        assert await verify_chain(session) is None
