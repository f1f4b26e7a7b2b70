"""A password someone chooses (a developer at sign-up or reset, an administrator made through the
admin API) is refused when it is published (the demo's), too regular or contains the address, as
`termgate init` refuses it for the first administrator: nothing is created or changed (clause 3.1,
credentials kept secure)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from termgate.cli import demo_seed
from termgate.core.passwords import PUBLISHED
from termgate.db.models import Developer
from termgate.db.programme import Administrator
from tests.web.conftest import Site, seed_programme

WEAK = [
    ("console-demo-2026", "that password is published"),
    ("portal-demo-2026", "that password is published"),
    ("abababababababab", "too easy to guess"),
    ("my bo@example.nl password", "too easy to guess"),
]


def test_clause_3_1_every_password_the_demo_publishes_is_refused_outside_it() -> None:
    published = {demo_seed.ADMIN[2], demo_seed.DEVELOPER_PASSWORD, demo_seed.END_USER_PASSWORD}
    assert published <= PUBLISHED


@pytest.mark.parametrize(("password", "reason"), WEAK)
async def test_clause_3_1_sign_up_refuses_a_weak_password_and_creates_nobody(
    site: Site, password: str, reason: str
) -> None:
    form = {"name": "Bo", "email": "bo@example.nl", "password": password}
    response = await site.post_form("/portal/signup", form)
    assert response.status_code == 400, response.text
    assert reason in response.text
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Developer)) == 0
    assert await site.mail_to("bo@example.nl") == []


@pytest.mark.parametrize(("password", "reason"), WEAK)
async def test_clause_3_1_the_admin_api_refuses_a_weak_administrator_password(
    site: Site, password: str, reason: str
) -> None:
    programme = await seed_programme(site)
    async with site.sessions() as session:
        before = await session.scalar(select(func.count()).select_from(Administrator))
    response = await site.client.post(
        "/admin/api/administrators",
        json={"email": "bo@example.nl", "name": "Bo", "role": "viewer", "password": password},
        headers=programme.auth,
    )
    assert response.status_code == 400, response.text
    problem = response.json()
    assert [p["name"] for p in problem["invalid-params"]] == ["password"]
    assert reason in problem["invalid-params"][0]["reason"]
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Administrator)) == before
