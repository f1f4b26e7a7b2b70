"""Products and plans managed in the provider console (clause 4.4): create a product, change it,
add a plan and change its price; every change audited with the administrator; a refused form is
shown again with the message and what was typed, and changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from termgate.db.models import Environment, Plan, Product
from termgate.db.programme import AuditEntry
from tests.web.conftest import ADMIN_EMAIL, Site, seed_programme
from tests.web.test_console import sign_in

PRODUCT = {
    "slug": "gold",
    "name": "Gold",
    "environment": "production",
    "operations": "*",
    "description": "Higher limits.\nFor approved applications.",
}
PLAN = {
    "slug": "monthly",
    "name": "Gold monthly",
    "price_cents_per_month": "9900",
    "rate_limit_per_minute": "1200",
    "developer_rate_limit_per_minute": "",
    "quota_per_period": "2000000",
    "quota_period": "month",
    "max_end_users": "",
    "max_debtors": "",
    "max_page_size": "100",
    "bandwidth_bytes_per_day": "",
    "max_response_bytes": "",
    "max_in_flight": "16",
    "time_zone": "Europe/Amsterdam",
}
PAGE = "/console/products"
SEEDED = "system"  # the default products the fixture creates


async def _gold(site: Site) -> Product | None:
    async with site.sessions() as session:
        query = select(Product).where(Product.slug == "gold").options(selectinload(Product.plans))
        return await session.scalar(query)


async def _state(site: Site) -> tuple[int, int, int]:
    async with site.sessions() as session:
        return (
            int(await session.scalar(select(func.count()).select_from(Product)) or 0),
            int(await session.scalar(select(func.count()).select_from(Plan)) or 0),
            int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0),
        )


async def _actors(site: Site, action: str) -> list[str]:
    async with site.sessions() as session:
        query = select(AuditEntry.actor).where(
            AuditEntry.action == action, AuditEntry.actor != SEEDED
        )
        return list(await session.scalars(query))


async def test_clause_4_4_console_creates_a_product_adds_a_plan_and_changes_its_price(
    site: Site,
) -> None:
    await seed_programme(site)
    await sign_in(site)
    listing = await site.client.get(PAGE)
    assert listing.status_code == 200
    assert "Create a product" in listing.text
    assert "Standard" in listing.text  # the default production plan is listed
    assert 'id="new-operations" name="operations" type="text" value="*"' in listing.text

    created = await site.post_form(PAGE, PRODUCT, PAGE)
    assert created.status_code == 303, created.text
    gold = await _gold(site)
    assert gold is not None
    assert gold.environment is Environment.PRODUCTION
    assert gold.description == PRODUCT["description"]
    assert await _actors(site, "created-product") == [ADMIN_EMAIL]

    added = await site.post_form(f"{PAGE}/gold/plans", PLAN, PAGE)
    assert added.status_code == 303, added.text
    gold = await _gold(site)
    assert gold is not None
    (plan,) = gold.plans
    assert (plan.price_cents_per_month, plan.rate_limit_per_minute) == (9900, 1200)
    assert plan.max_end_users is None
    assert plan.max_in_flight == 16
    assert await _actors(site, "created-plan") == [ADMIN_EMAIL]
    page = await site.client.get(PAGE)
    assert "€ 99.00" in page.text

    changed = await site.post_form(
        f"{PAGE}/gold",
        {**PRODUCT, "name": "Gold (2027)", "operations": "getCompanies", "environment": "sandbox"},
        PAGE,
    )
    assert changed.status_code == 303, changed.text
    gold = await _gold(site)
    assert gold is not None
    assert (gold.name, gold.operations) == ("Gold (2027)", "getCompanies")
    assert gold.environment is Environment.PRODUCTION  # clause 3.2: fixed once created
    assert await _actors(site, "changed-product") == [ADMIN_EMAIL]

    priced = await site.post_form(
        f"/console/plans/{plan.id}", {**PLAN, "price_cents_per_month": "12900"}, "/console/plans"
    )
    assert priced.status_code == 303, priced.text
    async with site.sessions() as session:
        assert (await session.get_one(Plan, plan.id)).price_cents_per_month == 12900
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "changed-plan"))
        assert entry is not None
        assert entry.actor == ADMIN_EMAIL
        assert "price_cents_per_month 9900 → 12900" in entry.reason


async def test_clause_4_4_console_refuses_bad_catalogue_forms_and_changes_nothing(
    site: Site,
) -> None:
    await seed_programme(site)
    await sign_in(site)
    assert (await site.post_form(PAGE, PRODUCT, PAGE)).status_code == 303
    assert (await site.post_form(f"{PAGE}/gold/plans", PLAN, PAGE)).status_code == 303
    before = await _state(site)
    refusals = [
        (PAGE, PRODUCT, "already exists"),
        (PAGE, {**PRODUCT, "slug": "Gold Plus"}, "Product slug: must be"),
        (PAGE, {**PRODUCT, "slug": "x", "environment": "moon"}, "Environment: must be one of"),
        (PAGE, {**PRODUCT, "slug": "x", "name": ""}, "Name: must not be empty"),
        (PAGE, {**PRODUCT, "slug": "x", "operations": "*, getCompanies"}, "Operations"),
        (PAGE, {**PRODUCT, "slug": "x", "operations": "get companies"}, "is not an operationId"),
        (f"{PAGE}/gold/plans", PLAN, "already has a plan"),
        (f"{PAGE}/gold/plans", {**PLAN, "slug": "p", "price_cents_per_month": "-5"},
         "Price per month, in cents (0: free): a whole number"),
        (f"{PAGE}/gold/plans", {**PLAN, "slug": "p", "price_cents_per_month": "²"},
         "a whole number"),
        (f"{PAGE}/gold/plans", {**PLAN, "slug": "p", "rate_limit_per_minute": "fast"},
         "Requests per minute, per application: a whole number, or empty for no limit"),
        (f"{PAGE}/gold/plans", {**PLAN, "slug": "p", "max_page_size": "500"}, "at most 100"),
        (f"{PAGE}/gold/plans", {**PLAN, "slug": "p", "time_zone": "Mars/Olympus"},
         "not a time zone"),
        (f"{PAGE}/gold", {**PRODUCT, "name": "a\x1bb"}, "control characters"),
    ]  # fmt: skip
    for path, form, message in refusals:
        refused = await site.post_form(path, form, PAGE)
        assert refused.status_code == 400, (path, form, refused.status_code)
        assert message in refused.text, (path, form, refused.text[-3000:])
        assert 'role="alert"' in refused.text
    typed = await site.post_form(PAGE, {**PRODUCT, "slug": "silver", "name": ""}, PAGE)
    assert 'value="silver"' in typed.text  # what was typed is kept
    beside = await site.post_form(f"{PAGE}/gold/plans", {**PLAN, "slug": "p", "name": ""}, PAGE)
    form = beside.text.split(f'action="{PAGE}/gold/plans"')[1].split("</form>")[0]
    assert 'role="alert"' in form  # the message is in the form that was refused
    assert 'value="p"' in form
    missing = await site.post_form(f"{PAGE}/tin/plans", {**PLAN, "slug": "p"}, PAGE)
    assert missing.status_code == 404
    forged = await site.client.post(PAGE, data={**PRODUCT, "slug": "x", "csrf_token": "forged"})
    assert forged.status_code in (400, 403)
    assert await _state(site) == before
    gold = await _gold(site)
    assert gold is not None
    assert gold.environment is Environment.PRODUCTION


async def test_clause_4_4_console_products_page_needs_a_signed_in_administrator(
    site: Site,
) -> None:
    response = await site.client.get(PAGE)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login")
    refused = await site.client.post(PAGE, data=PRODUCT)
    assert refused.status_code in (303, 400, 403)
    assert await _gold(site) is None
