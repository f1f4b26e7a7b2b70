"""Plan limits are data the provider changes (clauses 4.4, 3.3 e-h): console, admin API and
command line change them together with an audit entry; bad values change nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from termgate.cli import app
from termgate.db.models import Plan, Product
from termgate.db.programme import AuditEntry
from termgate.settings import get_settings
from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Site, seed_programme

PROBLEM = "application/problem+json"


async def standard_plan(site: Site) -> Plan:
    async with site.sessions() as session:
        plan = await session.scalar(
            select(Plan).join(Product).where(Product.slug == "production", Plan.slug == "standard")
        )
        assert plan is not None
        return plan


async def test_clause_4_4_console_changes_a_plans_limits_and_refuses_bad_values(
    site: Site,
) -> None:
    await seed_programme(site)
    await site.post_form(
        "/console/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, "/console/login"
    )
    plan = await standard_plan(site)
    page = await site.client.get("/console/plans")
    assert page.status_code == 200
    assert "Requests per minute, per application" in page.text
    limits = {
        "name": "Standard",
        "price_cents_per_month": "4900",
        "rate_limit_per_minute": "1200",
        "developer_rate_limit_per_minute": "",
        "quota_per_period": "500000",
        "quota_period": "rolling:30",
        "max_end_users": "",
        "max_debtors": "100",
        "max_page_size": "50",
        "bandwidth_bytes_per_day": "",
        "max_response_bytes": "2000000",
        "max_in_flight": "8",
        "time_zone": "Europe/Amsterdam",
    }
    saved = await site.post_form(f"/console/plans/{plan.id}", limits, "/console/plans")
    assert saved.status_code == 303
    changed = await standard_plan(site)
    assert changed.rate_limit_per_minute == 1200
    assert changed.max_end_users is None
    assert changed.quota_period == "rolling:30"
    assert changed.max_page_size == 50
    assert changed.max_in_flight == 8  # clause 3.3 f
    refused = await site.post_form(
        f"/console/plans/{plan.id}", {**limits, "rate_limit_per_minute": "fast"}, "/console/plans"
    )
    assert refused.status_code == 400
    assert "a whole number" in refused.text
    zone = await site.post_form(
        f"/console/plans/{plan.id}", {**limits, "time_zone": "Mars/Olympus"}, "/console/plans"
    )
    assert "not a time zone" in zone.text
    assert (await standard_plan(site)).rate_limit_per_minute == 1200
    async with site.sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "changed-plan"))
        assert entry is not None
        assert entry.actor == ADMIN_EMAIL
        assert "rate_limit_per_minute 600 → 1200" in entry.reason


async def test_clause_4_4_admin_api_lists_and_patches_plan_limits(site: Site) -> None:
    programme = await seed_programme(site)
    listing = await site.client.get("/admin/api/plans", headers=programme.auth)
    assert listing.status_code == 200
    plans = {f"{p['product']}/{p['slug']}": p for p in listing.json()["data"]}
    standard = plans["production/standard"]
    patched = await site.client.patch(
        f"/admin/api/plans/{standard['id']}",
        json={"rateLimitPerMinute": 900, "bandwidthBytesPerDay": None, "maxInFlight": 16},
        headers=programme.auth,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["maxInFlight"] == 16
    assert patched.json()["rateLimitPerMinute"] == 900
    assert patched.json()["bandwidthBytesPerDay"] is None
    for body, name in (
        ({"ratelimit": 5}, "ratelimit"),
        ({"maxPageSize": 500}, "maxPageSize"),
        ({"maxInFlight": 0}, "maxInFlight"),
        ({"quotaPeriod": "fortnight"}, "quota_period"),
        ({}, "body"),
    ):
        refused = await site.client.patch(
            f"/admin/api/plans/{standard['id']}", json=body, headers=programme.auth
        )
        assert refused.status_code == 400, (body, refused.text)
        assert refused.headers["content-type"] == PROBLEM
        assert any(name in p["name"] for p in refused.json()["invalid-params"]), refused.text
    assert (await standard_plan(site)).rate_limit_per_minute == 900


def test_clause_4_4_command_line_sets_limits(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERMGATE_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        seeded = runner.invoke(
            app, ["seed", "--no-maintenance", "--credentials", str(tmp_path / "c")]
        )
        assert seeded.exit_code == 0, seeded.output
        done = runner.invoke(app, ["plan", "set", "production/standard", "--rate", "none"])
        assert done.exit_code == 0, done.output
        capped = runner.invoke(app, ["plan", "set", "production/standard", "--in-flight", "4"])
        assert capped.exit_code == 0, capped.output
        for odd in ("lots", "²", "+5", "1_0"):
            refused = runner.invoke(app, ["plan", "set", "production/standard", "--rate", odd])
            assert refused.exit_code == 1, (odd, refused.output)
            assert "whole number" in refused.stderr
            assert "Traceback" not in refused.output
        unknown = runner.invoke(app, ["plan", "set", "production/gold", "--rate", "5"])
        assert unknown.exit_code == 1
        assert "no plan" in unknown.stderr
        listing = runner.invoke(app, ["plan", "list"])
        assert re.search(r"production/standard\s+│\s+no limit", listing.stdout), listing.stdout
        assert re.search(r"│\s+4\s+│\s+Europe/Amsterdam", listing.stdout), listing.stdout
    finally:
        get_settings.cache_clear()
