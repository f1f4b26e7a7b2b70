"""Clauses 8, 4.5 a and 4.6 in the control plane: /status and /maintenance.ics, notification
targeting from usage events, console, admin API and command line (bad input changes nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from sqlalchemy import func, select

from termgate.db.models import Application, UsageEvent
from termgate.db.programme import InboxMessage
from termgate.db.traffic import (
    AnnouncementRecipient,
    LifecycleState,
    MaintenanceException,
    OperationLifecycle,
)
from termgate.governance.announcements import announce
from termgate.governance.maintenance_calendar import add_window, ensure_default_rule, notify_due
from termgate.governance.operations import resolve
from termgate.notify.outbox import transaction
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from tests.governance.conftest import Site, seed_programme
from tests.support.usage_rows import add_with_summaries
from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD


def usage(application: Application, template: str, at: datetime, method: str = "GET") -> UsageEvent:
    return UsageEvent(
        at=at,
        request_id=f"r-{application.id}-{at.timestamp()}",
        application_id=application.id,
        developer_id=application.developer_id,
        method=method,
        operation=template,
        status=200,
        latency_ms=1.0,
    )


async def test_clause_8_status_document_and_icalendar_feed(site: Site) -> None:
    async with site.sessions.begin() as session:
        await ensure_default_rule(session, "tests")
    status = await site.client.get("/status")
    assert status.status_code == 200
    document = status.json()
    assert document["state"] in ("operational", "maintenance")
    assert document["clause"] == "8"
    assert 4 <= len(document["next"]) <= 5
    first = datetime.fromisoformat(document["next"][0]["start"])
    assert first.astimezone(UTC).hour in (18, 19)  # 20:00 Amsterdam, summer or winter
    feed = await site.client.get("/maintenance.ics")
    assert feed.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(feed.content)
    events = list(calendar.walk("VEVENT"))
    assert 12 <= len(events) <= 13
    uids = {str(event["UID"]) for event in events}
    assert len(uids) == len(events)
    start = events[0].decoded("DTSTART")
    assert start.tzinfo is not None
    assert start.utcoffset() == timedelta(0)
    assert events[0].decoded("DTEND") - start == timedelta(minutes=60)
    assert "Weekly planned update" in str(events[0]["DESCRIPTION"])
    again = Calendar.from_ical((await site.client.get("/maintenance.ics")).content)
    assert {str(e["UID"]) for e in again.walk("VEVENT")} == uids  # stable per occurrence


async def test_clause_4_5_announcement_reaches_only_recent_callers(
    site: Site, published_operations: None
) -> None:
    now = datetime.now(UTC)
    async with transaction(site.sessions, site.settings) as session:  # mail on commit
        caller = await create_developer(
            session, email="caller@example.nl", name="Caller", actor="tests"
        )
        stale = await create_developer(
            session, email="stale@example.nl", name="Stale", actor="tests"
        )
        other = await create_developer(
            session, email="other@example.nl", name="Other", actor="tests"
        )
        apps = {}
        for developer in (caller, stale, other):
            apps[developer.email] = await create_application(
                session, developer, name="App", actor="tests"
            )
        add_with_summaries(  # as the usage writer stores them: the announcement reads the summary
            session,
            [
                usage(
                    apps["caller@example.nl"],
                    "/api/companies/{companyId}/employees",
                    now - timedelta(days=3),
                ),
                usage(
                    apps["stale@example.nl"],
                    "/api/companies/{companyId}/employees",
                    now - timedelta(days=91),
                ),
                usage(apps["other@example.nl"], "/api/companies", now - timedelta(days=1)),
            ],
        )
        await session.flush()
        operations = await resolve(site.settings, ["getEmployeesByCompany"])
        _, told = await announce(
            session,
            title="getEmployeesByCompany pages differently",
            body="From 1 May pageSize is at most 50.",
            operations=operations,
            actor="tests",
            now=now,
        )
    assert [item.developer.email for item in told] == ["caller@example.nl"]
    assert told[0].operations == ["getEmployeesByCompany"]
    async with site.sessions() as session:
        inboxes = list(await session.scalars(select(InboxMessage.developer_id)))
        assert inboxes == [caller.id]
        recipients = list(await session.scalars(select(AnnouncementRecipient)))
        assert [(r.developer_id, r.operations) for r in recipients] == [
            (caller.id, "getEmployeesByCompany")
        ]
    assert len(await site.mail_to("caller@example.nl")) == 1
    assert await site.mail_to("stale@example.nl") == []


async def test_clause_8_notice_before_extra_window_is_sent_once(site: Site) -> None:
    now = datetime.now(UTC)
    async with site.sessions.begin() as session:
        await create_developer(session, email="dev@example.nl", name="Dev", actor="tests")
        near = await add_window(session, now + timedelta(days=2), 30, "Storage", "tests", now)
        await add_window(session, now + timedelta(days=20), 30, "Later", "tests", now)
        assert [c.id for c in await notify_due(session, now, 7)] == [near.id]
        assert await notify_due(session, now, 7) == []  # idempotent
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InboxMessage)) == 1


async def login(site: Site) -> None:
    await site.post_form("/console/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})


async def test_clause_8_console_adds_a_window_and_refuses_bad_input(site: Site) -> None:
    await seed_programme(site)
    await login(site)
    page = await site.client.get("/console/maintenance")
    assert page.status_code == 200
    assert "Maintenance calendar" in page.text
    bad = await site.post_form(
        "/console/maintenance",
        {"action": "extra", "start": "next tuesday", "duration": "30", "reason": "x"},
    )
    assert bad.status_code == 400
    assert "not a date and time" in bad.text
    start = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    good = await site.post_form(
        "/console/maintenance",
        {"action": "extra", "start": start, "duration": "30", "reason": "Storage move"},
    )
    assert good.status_code == 303
    async with site.sessions() as session:
        rows = list(await session.scalars(select(MaintenanceException)))
    assert len(rows) == 1
    assert rows[0].notified_at is not None  # within the notice period: developers told now


async def test_clause_4_6_admin_api_deprecates_and_refuses_bad_input(
    site: Site, published_operations: None
) -> None:
    programme = await seed_programme(site)
    bad = await site.client.put(
        "/admin/api/lifecycle",
        headers=programme.auth,
        json={"operations": ["noSuchOperation"], "state": "deprecated"},
    )
    assert bad.status_code == 400
    assert bad.json()["invalid-params"][0]["name"] == "operations"
    naive = await site.client.post(
        "/admin/api/maintenance/exceptions",
        headers=programme.auth,
        json={"kind": "extra", "start": "2030-01-01T10:00", "durationMinutes": 30, "reason": "x"},
    )
    assert naive.status_code == 400
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OperationLifecycle)) == 0
    sunset = (datetime.now(UTC) + timedelta(days=60)).isoformat()
    good = await site.client.put(
        "/admin/api/lifecycle",
        headers=programme.auth,
        json={
            "operations": ["getEmployeesByCompany", "getEmployee"],
            "state": "deprecated",
            "sunsetAt": sunset,
            "migrationUrl": "https://developer.example/v2",
        },
    )
    assert good.status_code == 200, good.text
    assert {row["operationId"] for row in good.json()["data"]} == {
        "getEmployeesByCompany",
        "getEmployee",
    }
    async with site.sessions() as session:
        states = set(await session.scalars(select(OperationLifecycle.state)))
    assert states == {LifecycleState.DEPRECATED}
    await login(site)
    page = await site.client.get("/console/lifecycle")
    assert page.status_code == 200
    assert "getEmployeesByCompany" in page.text
    assert "https://developer.example/v2" in page.text
    document = (await site.client.get("/admin/api/openapi.json")).json()
    assert "/lifecycle" in document["paths"]
    assert "/maintenance/exceptions" in document["paths"]
