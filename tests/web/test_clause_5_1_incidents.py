"""Clause 5.1 through HTTP on both databases: a developer reports an incident in the portal; the
console shows its 72-hour clock from discovery; containment revokes only the affected end
users' tokens (or the application's keys and tokens); the provider's notice reaches the end
users; bad input names its field and changes nothing; the audit chain stays intact."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from termgate.db.due_process_records import EndUserNotice, IncidentReport
from termgate.db.models import Status, SubscriptionKey
from termgate.due_process.incidents import incident_clocks
from tests.web.conftest import Site
from tests.web.due_process_support import (
    audit_count,
    chain_intact,
    connect_end_user,
    developer_with_password,
    family_revoked,
    sign_in_console,
    sign_in_developer,
)


async def _report(site: Site, application_id: str, affected: str, hours_ago: int = 2) -> str:
    discovered = (site.settings.now() - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M")
    response = await site.post_form(
        "/portal/incidents",
        {
            "application_id": application_id,
            "summary": "A backup bucket was public for a day.",
            "discovered_at": discovered,
            "affected_end_users": affected,
            "data_categories": "salaries, bank accounts",
            "containment": "Bucket made private; keys rotated.",
        },
    )
    assert response.status_code == 303, response.text
    async with site.sessions() as session:
        incident_id = await session.scalar(select(IncidentReport.id))
    assert incident_id
    return incident_id


async def test_clause_5_1_incident_clock_shows_and_containment_revokes_affected_tokens(
    site: Site,
) -> None:
    programme = await developer_with_password(site)
    hit = await connect_end_user(site, programme.application_id)
    spared = await connect_end_user(site, programme.application_id)
    await sign_in_developer(site, programme.developer_email)
    incident_id = await _report(site, programme.application_id, hit.username, hours_ago=2)

    await sign_in_console(site)
    page = await site.client.get(f"/console/incidents/{incident_id}")
    assert page.status_code == 200
    assert re.search(r"69 h 5\d min left", page.text) or "70 h 00 min" in page.text

    response = await site.post_form(
        f"/console/incidents/{incident_id}/contain",
        {"scope": "end-users", "reason": "leaked tokens"},
        f"/console/incidents/{incident_id}",
    )
    assert response.status_code == 303, response.text
    assert await family_revoked(site, hit.family_id)
    assert not await family_revoked(site, spared.family_id)
    async with site.sessions() as session:
        key = await session.get_one(SubscriptionKey, programme.key_id)
        assert key.status is Status.ACTIVE  # only the end users' tokens

    response = await site.post_form(
        f"/console/incidents/{incident_id}/notify",
        {"text": "Your salary data may have been exposed at Salary sync."},
        f"/console/incidents/{incident_id}",
    )
    assert response.status_code == 303, response.text
    [mail] = await site.mail_to(hit.email)
    assert "may have been exposed" in mail.body
    assert await site.mail_to(spared.email) == []
    assert await chain_intact(site)


async def test_clause_5_1_admin_api_contains_the_whole_application_and_the_clock_runs_out(
    site: Site,
) -> None:
    programme = await developer_with_password(site)
    hit = await connect_end_user(site, programme.application_id)
    await sign_in_developer(site, programme.developer_email)
    incident_id = await _report(site, programme.application_id, hit.end_user_id, hours_ago=73)
    auth = programme.auth

    shown = await site.client.get(f"/admin/api/incidents/{incident_id}", headers=auth)
    assert shown.status_code == 200, shown.text
    assert shown.json()["overdue"] is True
    assert shown.json()["clock"].startswith("overdue by 1 h")
    async with site.sessions.begin() as session:
        assert await incident_clocks(session, site.settings.now()) == 1
        assert await incident_clocks(session, site.settings.now()) == 0  # once

    contained = await site.client.post(
        f"/admin/api/incidents/{incident_id}/contain",
        json={"scope": "application", "reason": "whole app"},
        headers=auth,
    )
    assert contained.status_code == 200, contained.text
    assert contained.json()["keysRevoked"] == 1
    assert contained.json()["tokenFamiliesRevoked"] == 1
    assert await family_revoked(site, hit.family_id)
    again = await site.client.post(
        f"/admin/api/incidents/{incident_id}/contain", json={"scope": "application"}, headers=auth
    )
    assert again.status_code == 409, again.text
    closed = await site.client.post(
        f"/admin/api/incidents/{incident_id}/triage",
        json={"state": "closed", "reason": "contained and notified"},
        headers=auth,
    )
    assert closed.status_code == 200
    assert closed.json()["state"] == "closed"
    assert await chain_intact(site)


async def test_clause_5_1_bad_incident_input_names_the_field_and_changes_nothing(
    site: Site,
) -> None:
    programme = await developer_with_password(site)
    await sign_in_developer(site, programme.developer_email)
    before = await audit_count(site)
    good = {
        "application_id": programme.application_id,
        "summary": "Leak",
        "discovered_at": "2026-01-01T10:00",
        "affected_end_users": "",
        "data_categories": "",
        "containment": "",
    }
    for name, value, words in (
        ("summary", "", "summary"),
        ("discovered_at", "yesterday", "discovered at"),
        ("discovered_at", "2999-01-01T00:00", "discovered at"),
        ("affected_end_users", "nobody-we-know", "affected end users"),
        ("application_id", "not-an-app", "application id"),
    ):
        response = await site.post_form("/portal/incidents", {**good, name: value})
        assert response.status_code == 400, (name, response.text)
        assert words in response.text, (name, response.text)
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(IncidentReport)) == 0
    assert await audit_count(site) == before

    incident_id = await _report(site, programme.application_id, "")
    auth = programme.auth
    for path, body, field in (
        ("contain", {"scope": "everything"}, "scope"),
        ("contain", {"scope": "end-users"}, "scope"),  # the report names no end users
        ("triage", {"state": "triaged", "reason": ""}, "reason"),
        ("notify", {"text": ""}, "text"),
        ("triage", {"state": "contained", "reason": "x"}, "state"),
    ):
        response = await site.client.post(
            f"/admin/api/incidents/{incident_id}/{path}", json=body, headers=auth
        )
        assert response.status_code == 400, (path, body, response.text)
        assert field in {p["name"] for p in response.json()["invalid-params"]}, response.text
    missing = await site.client.get("/admin/api/incidents/nope", headers=auth)
    assert missing.status_code == 404
    async with site.sessions() as session:
        incident = await session.get_one(IncidentReport, incident_id)
        assert incident.state.value == "reported"
        assert await session.scalar(select(func.count()).select_from(EndUserNotice)) == 0
