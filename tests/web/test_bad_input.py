"""Bad input to the control plane is refused (clause 3.1), never a 500, and changes nothing.

Each case here once raised a traceback: digits that `str.isdigit` accepts and `int` does not,
a time zone name too long for the file system, quotes and control characters in an
authorization request, the example client's callback with a code the server never issued, and
NUL or terminal escapes stored in names.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from termgate.db.models import Application, Plan
from termgate.db.programme import TermsVersion
from termgate.db.traffic import MaintenanceRule
from termgate.settings import Settings, load_settings
from tests.conftest import free_port
from tests.web.conftest import Programme, Site, seed_programme
from tests.web.test_console import sign_in as console_sign_in
from tests.web.test_portal import sign_in as portal_sign_in
from tests.web.test_portal import sign_up_and_verify

SUPERSCRIPT_TWO = "\u00b2"  # '²'.isdigit() is True, int('²') raises


@pytest.fixture
async def settings() -> Settings:
    """The site of these tests also serves the example client (its callback is tested here)."""
    return load_settings(
        secret_key="x" * 40, smtp_port=free_port(), public_url="http://portal.test",
        example_client="true",
    )  # fmt: skip


@pytest.fixture
async def console(site: Site) -> Programme:
    programme = await seed_programme(site)
    await console_sign_in(site)
    return programme


async def plan_snapshot(site: Site) -> list[tuple[object, ...]]:
    async with site.sessions() as session:
        rows = await session.scalars(select(Plan).order_by(Plan.id))
        return [(p.id, p.max_page_size, p.rate_limit_per_minute, p.time_zone) for p in rows]


def plan_form(**changes: str) -> dict[str, str]:
    form = {
        "name": "Sandbox (free)",
        "price_cents_per_month": "0",
        "rate_limit_per_minute": "60",
        "developer_rate_limit_per_minute": "",
        "quota_per_period": "",
        "quota_period": "month",
        "max_end_users": "",
        "max_debtors": "",
        "max_page_size": "50",
        "bandwidth_bytes_per_day": "",
        "max_response_bytes": "",
        "time_zone": "Europe/Amsterdam",
    }
    return {**form, **changes}


async def test_clause_3_1_console_plan_form_refuses_superscript_digits_and_huge_zones(
    site: Site, console: Programme
) -> None:
    before = await plan_snapshot(site)
    plan_id = str(before[0][0])
    for changes in (
        {"max_page_size": SUPERSCRIPT_TWO},
        {"rate_limit_per_minute": SUPERSCRIPT_TWO},
        {"time_zone": "Europe/" + "A" * 200_000},
        {"quota_period": "rolling:" + SUPERSCRIPT_TWO},
    ):
        response = await site.post_form(
            f"/console/plans/{plan_id}", plan_form(**changes), "/console/plans"
        )
        assert response.status_code == 400, (changes.keys(), response.status_code)
        assert "Traceback" not in response.text
    assert await plan_snapshot(site) == before


async def test_clause_3_1_console_terms_and_maintenance_refuse_superscript_digits(
    site: Site, console: Programme
) -> None:
    async with site.sessions() as session:
        versions = await session.scalar(select(func.count()).select_from(TermsVersion))
        rules = await session.scalar(select(func.count()).select_from(MaintenanceRule))
    terms = await site.post_form(
        "/console/terms",
        {
            "version": "2.0",
            "title": "Terms 2",
            "change_summary": "",
            "body": "New text",
            "reaccept_days": SUPERSCRIPT_TWO,
        },
    )
    assert terms.status_code == 400
    assert "re-acceptance days" in terms.text
    for changes in (
        {"weekday": SUPERSCRIPT_TWO},
        {"weekly_duration": SUPERSCRIPT_TWO},
        {"start_time": f"2{SUPERSCRIPT_TWO}:00"},
        {"time_zone": "Europe/" + "A" * 200_000},
    ):
        form = {
            "action": "rule",
            "weekday": "2",
            "start_time": "20:00",
            "weekly_duration": "60",
            "time_zone": "Europe/Amsterdam",
            **changes,
        }
        response = await site.post_form("/console/maintenance", form)
        assert response.status_code == 400, (changes.keys(), response.status_code)
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(TermsVersion)) == versions
        assert await session.scalar(select(func.count()).select_from(MaintenanceRule)) == rules


def new_app_form(**changes: str) -> dict[str, str]:
    form = {
        "name": "Payroll sync",
        "description": "Syncs salaries\r\ninto our books.\tTabs are fine.",
        "use_case_category": "accounting",
        "data_access": "periodic_reports",
        "use_case": "Monthly salary journal entries for the customer's own books.",
        "scopes": "employee.employment.read",
        "redirect_uris": "https://app.example.nl/callback",
        "expected_end_users": "40",
    }
    return {**form, **changes}


async def application_count(site: Site) -> int:
    async with site.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Application)) or 0)


async def test_clause_3_1_portal_refuses_superscript_digits_and_control_characters(
    site: Site,
) -> None:
    await sign_up_and_verify(site)
    await portal_sign_in(site)
    refused = (
        ({"expected_end_users": SUPERSCRIPT_TWO}, "expected number of end users"),
        ({"name": "Payroll\x00sync"}, "name must not contain control characters"),
        ({"name": "Payroll \x1b[2Jsync"}, "U+001B"),
        ({"description": "Syncs\x1b]0;owned\x07 salaries"}, "description"),
        ({"redirect_uris": "https://[app.example/cb"}, "not a redirect URI"),
    )
    for changes, message in refused:
        response = await site.post_form("/portal/apps/new", new_app_form(**changes))
        assert response.status_code == 400, (changes, response.status_code)
        assert message in response.text, changes
    assert await application_count(site) == 0
    accepted = await site.post_form("/portal/apps/new", new_app_form())
    assert accepted.status_code == 303, accepted.text
    async with site.sessions() as session:
        application = await session.scalar(select(Application))
        assert application is not None
        assert application.description == "Syncs salaries\r\ninto our books.\tTabs are fine."


async def test_clause_3_1_admin_api_plan_change_takes_strict_json_types(
    site: Site, console: Programme
) -> None:
    before = await plan_snapshot(site)
    path = f"/admin/api/plans/{before[0][0]}"
    for body in (
        {"maxPageSize": True},
        {"maxPageSize": "10"},
        {"rateLimitPerMinute": 10.5},
        {"timeZone": "Europe/" + "A" * 60},
        {"quotaPeriod": f"rolling:{SUPERSCRIPT_TWO}"},
    ):
        response = await site.client.patch(path, json=body, headers=console.auth)
        assert response.status_code == 400, (body, response.text)
        problem = response.json()
        assert problem["code"] == 40001, problem
        assert problem["clause"], problem
    assert await plan_snapshot(site) == before
    accepted = await site.client.patch(path, json={"maxPageSize": 10}, headers=console.auth)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["maxPageSize"] == 10


async def test_clause_3_1_admin_api_refuses_control_characters_in_text(
    site: Site, console: Programme
) -> None:
    response = await site.client.post(
        "/admin/api/announcements",
        json={"title": "Moved\x1b[31m", "body": "Body", "operations": ["getDebtors"]},
        headers=console.auth,
    )
    assert response.status_code == 400, response.text
    reasons = {param["name"]: param["reason"] for param in response.json()["invalid-params"]}
    assert any("title" in name for name in reasons), reasons


async def test_clause_8_removing_a_missing_maintenance_exception_is_not_found(
    site: Site, console: Programme
) -> None:
    response = await site.client.delete(
        "/admin/api/maintenance/exceptions/no-such-exception", headers=console.auth
    )
    assert response.status_code == 404, response.text
    assert response.json()["code"] == 40401


async def test_clause_3_1_example_client_callback_with_a_bogus_code_is_a_page(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "demo-credentials.json"
    credentials.write_text(
        json.dumps(
            {
                "client_id": "nobody",
                "client_secret": "nothing",
                "redirect_uri": "http://portal.test/example-client/callback",
                "production_subscription_key": "tg_nothing",
            }
        )
    )
    monkeypatch.setattr("termgate.web.example_client.CREDENTIALS", credentials)
    token = await site.csrf("/example-client")
    started = await site.client.post("/example-client/start", data={"csrf_token": token})
    assert started.status_code == 303
    for query in ("code=bogus&state=wrong", "code=bogus", "state=%00", ""):
        response = await site.client.get(f"/example-client/callback?{query}")
        assert response.status_code == 400, (query, response.status_code)
        assert "Traceback" not in response.text
    started = await site.client.post("/example-client/start", data={"csrf_token": token})
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    response = await site.client.get(f"/example-client/callback?code=bogus&state={state}")
    assert response.status_code == 400
    assert "did not complete" in response.text
