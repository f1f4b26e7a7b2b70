"""Clause 4.1: the console's usage page and export show everyone's use; the portal's show the
signed-in developer only their own applications' use, and refuse another's with a 404."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

from termgate.core.passwords import hash_password
from termgate.db.models import Developer, UsageEvent
from termgate.governance.sketch_hours import sketch_hour
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from tests.support.usage_rows import add_with_summaries
from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Programme, Site, seed_programme

PASSWORD = "usage pages 2026"
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
MINE = "/api/companies/{companyId}/employees"
THEIRS = "/api/debtors/{debtorId}/secret-operation"


def event(developer: str, application: str, operation: str, **fields: object) -> UsageEvent:
    values: dict[str, object] = {
        "at": NOW - timedelta(hours=1),
        "request_id": uuid.uuid4().hex,
        "method": "GET",
        "status": 200,
        "bytes_in": 0,
        "bytes_out": 500,
        "latency_ms": 12.0,
        "end_user_id": "eu-1",
    }
    values.update(fields)
    return UsageEvent(
        developer_id=developer, application_id=application, operation=operation, **values
    )


async def two_developers(site: Site) -> tuple[Programme, str]:
    """Ann (the programme's developer, who can sign in) and Bob, each with usage of their own."""
    programme = await seed_programme(site)
    async with site.sessions.begin() as session:
        ann = await session.get(Developer, programme.developer_id)
        assert ann is not None
        ann.password_hash = hash_password(PASSWORD)
        ann.email_verified_at = datetime.now(UTC)
        bob = await create_developer(session, email="bob@example.org", name="Bob", actor="tests")
        bobs = await create_application(
            session,
            bob,
            name="Bob's harvester",
            use_case="Reads every employee of every company, every night, for his own database.",
            use_case_category="accounting",
            requested_scopes="employee.employment.read",
            actor="tests",
        )
        add_with_summaries(  # with the summaries the usage writer keeps (the console reads)
            session,
            [
                event(ann.id, programme.application_id, MINE),
                event(ann.id, programme.application_id, MINE, status=403, code=40303),
                *(event(bob.id, bobs.id, THEIRS, end_user_id=f"b{n}") for n in range(5)),
            ],
        )
    return programme, bobs.id


async def test_clause_4_1_console_usage_page_and_export_show_every_developer(site: Site) -> None:
    _programme, bobs_app = await two_developers(site)
    signed_in = await site.post_form(
        "/console/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert signed_in.status_code == 303
    page = await site.client.get("/console/usage")
    assert page.status_code == 200
    assert MINE in page.text
    assert THEIRS in page.text
    assert '<svg class="chart" role="img"' in page.text
    assert 'data-figure="requests">7<' in page.text
    assert "3.3 a" in page.text  # the refusal's clause, read from its code 40303

    export = await site.client.get("/console/usage.csv", params={"granularity": "hour"})
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    by_operation = {row["operation"]: row for row in rows}
    assert by_operation[THEIRS]["requests"] == "5"
    assert by_operation[THEIRS]["distinct_end_users"] == "5"
    assert by_operation[MINE]["refusals"] == "1"
    assert by_operation[MINE]["latency_p50_ms"] == "12.000"
    assert {row["estimated"] for row in rows} == {"false"}  # two hours: read from the events

    only_bob = await site.client.get("/console/usage", params={"application": bobs_app})
    assert THEIRS in only_bob.text
    assert MINE not in only_bob.text.split("<datalist")[1]


async def test_clause_4_1_portal_usage_shows_the_developer_only_their_own(site: Site) -> None:
    programme, bobs_app = await two_developers(site)
    signed_in = await site.post_form(
        "/portal/login", {"email": programme.developer_email, "password": PASSWORD}
    )
    assert signed_in.status_code == 303, signed_in.text
    page = await site.client.get("/portal/usage")
    assert page.status_code == 200
    assert MINE in page.text
    assert THEIRS not in page.text
    assert "Bob" not in page.text
    assert 'data-figure="requests">2<' in page.text

    export = await site.client.get("/portal/usage.csv")
    assert {row["operation"] for row in csv.DictReader(io.StringIO(export.text))} == {MINE}

    for path in ("/portal/usage", "/portal/usage.csv"):
        refused = await site.client.get(path, params={"application": bobs_app})
        assert refused.status_code == 404, path
        assert THEIRS not in refused.text
    # a developer filter cannot widen the portal's view either
    widened = await site.client.get("/portal/usage.csv", params={"developer": "anyone"})
    assert {row["operation"] for row in csv.DictReader(io.StringIO(widened.text))} == {MINE}


async def test_clause_4_1_bad_usage_filters_are_refused_naming_the_field(site: Site) -> None:
    await seed_programme(site)
    await site.post_form("/console/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    for params, field in (
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"granularity": "minute"}, "granularity"),
        ({"from": "2020-01-01", "to": "2026-01-01", "granularity": "hour"}, "granularity"),
        ({"from": "2026-02-02", "to": "2026-02-01"}, "from"),
        ({"operation": "x" * 300}, "operation"),
    ):
        for path in ("/console/usage", "/console/usage.csv"):
            response = await site.client.get(path, params=params)
            assert response.status_code == 400, (path, params)
            assert f"{field}:" in response.text, (path, params)


async def test_clause_4_1_usage_pages_need_a_signed_in_person(site: Site) -> None:
    for path, login in (("/console/usage", "/console/login"), ("/portal/usage", "/portal/login")):
        response = await site.client.get(path)
        assert response.status_code in (302, 303, 307)
        assert response.headers["location"].startswith(login)


async def test_clause_4_1_console_marks_the_distinct_counts_it_estimated_from_the_sketches(
    site: Site,
) -> None:
    programme = await seed_programme(site)
    hours = [NOW - timedelta(hours=hours) for hours in range(2, 8)]
    async with site.sessions.begin() as session:
        add_with_summaries(
            session,
            (
                event(
                    programme.developer_id,
                    programme.application_id,
                    MINE,
                    at=hour,
                    end_user_id=f"eu-{n}",
                )
                for n, hour in enumerate(hours)
            ),
        )
    async with site.sessions.begin() as session:  # as the monitoring thread sketches hours over
        for hour in hours:
            await sketch_hour(session, hour)
    await site.post_form("/console/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})

    everyone = await site.client.get("/console/usage")
    assert 'data-figure="end-users">≈ 6<' in everyone.text  # six hours' sketches merged
    assert 'id="usage-estimates"' in everyone.text
    one_application = await site.client.get(
        "/console/usage", params={"application": programme.application_id}
    )
    assert 'data-figure="end-users">6<' in one_application.text  # read from its events
    assert 'id="usage-estimates"' not in one_application.text
