"""Products and plans managed through the admin API (clause 4.4): created, listed and changed
with an audit entry naming the administrator and a change event for the gateways; bad input is a
problem document that names the member and changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from termgate.db.models import AccessChange, Plan, Product
from termgate.db.programme import AuditEntry
from tests.web.conftest import ADMIN_ACTOR, Site, seed_programme

PROBLEM = "application/problem+json"
SEEDED = "system"  # the default products the fixture creates
GOLD: dict[str, Any] = {
    "slug": "gold",
    "name": "Gold",
    "environment": "production",
    "description": "Every operation, higher limits.",
    "plans": [{"slug": "monthly", "name": "Gold monthly", "priceCentsPerMonth": 9900}],
}


async def _counts(site: Site) -> tuple[int, int, int, int]:
    async with site.sessions() as session:
        return (
            int(await session.scalar(select(func.count()).select_from(Product)) or 0),
            int(await session.scalar(select(func.count()).select_from(Plan)) or 0),
            int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0),
            int(await session.scalar(select(func.count()).select_from(AccessChange)) or 0),
        )


async def _audit(site: Site, action: str) -> list[AuditEntry]:
    async with site.sessions() as session:
        query = (
            select(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.actor != SEEDED)
            .order_by(AuditEntry.id)
        )
        return list(await session.scalars(query))


async def test_clause_4_4_create_list_and_patch_a_product_and_its_plans_audited(
    site: Site,
) -> None:
    programme = await seed_programme(site)
    auth = programme.auth
    created = await site.client.post("/admin/api/products", json=GOLD, headers=auth)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/admin/api/products/gold"
    assert created.json()["environment"] == "production"
    assert created.json()["operations"] == ["*"]
    assert [p["slug"] for p in created.json()["plans"]] == ["monthly"]
    (product_entry,) = await _audit(site, "created-product")
    assert product_entry.actor == ADMIN_ACTOR

    added = await site.client.post(
        "/admin/api/products/gold/plans",
        json={"slug": "yearly", "name": "Gold yearly", "rateLimitPerMinute": 1200},
        headers=auth,
    )
    assert added.status_code == 201, added.text
    assert added.headers["location"] == "/admin/api/products/gold/plans/yearly"
    assert added.json()["product"] == "gold"
    assert added.json()["rateLimitPerMinute"] == 1200
    assert added.json()["maxPageSize"] == 100
    assert {e.actor for e in await _audit(site, "created-plan")} == {ADMIN_ACTOR}

    listing = await site.client.get("/admin/api/products", headers=auth)
    assert listing.status_code == 200
    products = {p["slug"]: p for p in listing.json()["data"]}
    assert {"gold", "sandbox", "production"} <= products.keys()
    assert [p["slug"] for p in products["gold"]["plans"]] == ["monthly", "yearly"]

    events = (await _counts(site))[3]
    patched = await site.client.patch(
        "/admin/api/products/gold/plans/monthly",
        json={"priceCentsPerMonth": 12900, "maxInFlight": 8, "quotaPerPeriod": None},
        headers=auth,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["priceCentsPerMonth"] == 12900
    assert patched.json()["maxInFlight"] == 8
    (change,) = await _audit(site, "changed-plan")
    assert change.actor == ADMIN_ACTOR
    assert "price_cents_per_month 9900 → 12900" in change.reason
    assert (await _counts(site))[3] > events  # the gateways reload the plan

    renamed = await site.client.patch(
        "/admin/api/products/gold",
        json={"name": "Gold (2027)", "operations": ["getCompanies", "getEmployees"]},
        headers=auth,
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Gold (2027)"
    assert renamed.json()["operations"] == ["getCompanies", "getEmployees"]
    (product_change,) = await _audit(site, "changed-product")
    assert product_change.actor == ADMIN_ACTOR
    fetched = await site.client.get("/admin/api/products/gold", headers=auth)
    assert fetched.json()["name"] == "Gold (2027)"


async def test_clause_4_4_patch_with_what_the_plan_already_is_audits_nothing(site: Site) -> None:
    programme = await seed_programme(site)
    body = {"rateLimitPerMinute": 600, "priceCentsPerMonth": 4900}
    before = await _counts(site)
    same = await site.client.patch(
        "/admin/api/products/production/plans/standard", json=body, headers=programme.auth
    )
    assert same.status_code == 200, same.text
    assert await _counts(site) == before


async def test_clause_4_4_bad_catalogue_input_is_a_problem_and_changes_nothing(
    site: Site,
) -> None:
    programme = await seed_programme(site)
    auth = programme.auth
    assert (await site.client.post("/admin/api/products", json=GOLD, headers=auth)).is_success
    before = await _counts(site)
    cases: list[tuple[str, str, dict[str, Any], int, str]] = [
        ("post", "/admin/api/products", GOLD, 409, ""),
        ("post", "/admin/api/products", {**GOLD, "slug": "Gold!"}, 400, "slug"),
        ("post", "/admin/api/products", {**GOLD, "slug": "a\u202eb"}, 400, "slug"),
        ("post", "/admin/api/products", {**GOLD, "slug": "x", "environment": "moon"}, 400,
         "environment"),
        ("post", "/admin/api/products", {**GOLD, "slug": "x", "name": "a\nb"}, 400, "name"),
        ("post", "/admin/api/products", {**GOLD, "slug": "x", "operations": []}, 400,
         "operations"),
        ("post", "/admin/api/products",
         {**GOLD, "slug": "x", "plans": [{"slug": "p", "name": "P", "quotaPeriod": "fortnight"}]},
         400, "quota_period"),
        ("post", "/admin/api/products",
         {**GOLD, "slug": "x", "plans": [{"slug": "p", "name": "P"}, {"slug": "p", "name": "Q"}]},
         409, ""),
        ("post", "/admin/api/products/gold/plans", {"slug": "monthly", "name": "Again"}, 409, ""),
        ("post", "/admin/api/products/tin/plans", {"slug": "basic", "name": "Basic"}, 404, ""),
        ("post", "/admin/api/products/gold/plans",
         {"slug": "cheap", "name": "Cheap", "priceCentsPerMonth": -1}, 400, "priceCentsPerMonth"),
        ("post", "/admin/api/products/gold/plans",
         {"slug": "cheap", "name": "Cheap", "maxPageSize": 500}, 400, "maxPageSize"),
        ("patch", "/admin/api/products/gold/plans/monthly", {"rateLimitPerMinute": 0}, 400,
         "rateLimitPerMinute"),
        ("patch", "/admin/api/products/gold/plans/monthly", {"rateLimitPerMinute": "10"}, 400,
         "rateLimitPerMinute"),
        ("patch", "/admin/api/products/gold/plans/monthly", {"timeZone": "Mars/Olympus"}, 400,
         "time_zone"),
        ("patch", "/admin/api/products/gold/plans/monthly", {"priceCentsPerMonth": None}, 400,
         "price_cents_per_month"),
        ("patch", "/admin/api/products/gold/plans/monthly", {}, 400, "body"),
        ("patch", "/admin/api/products/gold/plans/platinum", {"rateLimitPerMinute": 5}, 404, ""),
        ("patch", "/admin/api/products/gold", {"environment": "moon"}, 400, "environment"),
        ("patch", "/admin/api/products/gold", {"environment": "sandbox"}, 400, "environment"),
        ("patch", "/admin/api/products/gold", {"name": None}, 400, "name"),
        ("patch", "/admin/api/products/gold", {"operations": ["*", "getCompanies"]}, 400,
         "operations"),
        ("patch", "/admin/api/products/tin", {"name": "Tin"}, 404, ""),
        ("get", "/admin/api/products/tin", {}, 404, ""),
    ]  # fmt: skip
    for method, path, body, status, name in cases:
        kwargs: dict[str, Any] = {"headers": auth}
        if method != "get":
            kwargs["json"] = body
        refused = await site.client.request(method.upper(), path, **kwargs)
        assert refused.status_code == status, (method, path, body, refused.text)
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["clause"] == "4.4"
        if name:
            names = [p["name"] for p in refused.json()["invalid-params"]]
            assert any(name in n for n in names), (body, names)
    assert await _counts(site) == before
    unauthorised = await site.client.post("/admin/api/products", json={**GOLD, "slug": "x"})
    assert unauthorised.status_code == 401
    assert await _counts(site) == before
