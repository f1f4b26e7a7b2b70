"""How an application reads data is declared when it is registered (clause 3.2), so the harvest
detector can compare its reads with it (clause 3.3 d): the portal asks for it and shows it, the
admin API takes it, and a missing or unknown declaration is refused with nothing created."""

from __future__ import annotations

from typing import get_args

import pytest
from sqlalchemy import select

from termgate.db.models import Application
from termgate.registry.applications import DATA_ACCESS
from termgate.web.admin_api.models import DataAccess
from tests.web.conftest import Programme, Site, seed_programme
from tests.web.test_bad_input import application_count, new_app_form
from tests.web.test_portal import sign_in, sign_up_and_verify


async def test_clause_3_2_the_portal_records_and_shows_how_an_application_reads_data(
    site: Site,
) -> None:
    await sign_up_and_verify(site)
    await sign_in(site)
    form_page = await site.client.get("/portal/apps/new")
    for value, text in DATA_ACCESS.items():
        assert f'value="{value}"' in form_page.text
        assert text.replace("'", "&#39;") in form_page.text
    response = await site.post_form("/portal/apps/new", new_app_form(data_access="scheduled_sync"))
    assert response.status_code == 303, response.text
    page = await site.client.get(response.headers["location"])
    assert DATA_ACCESS["scheduled_sync"].replace("'", "&#39;") in page.text
    async with site.sessions() as session:
        stored = await session.scalar(select(Application.data_access))
    assert stored == "scheduled_sync"


@pytest.mark.parametrize("declared", ["", "everything", "on_demand\x00", "ON_DEMAND", "x" * 5000])
async def test_clause_3_2_a_missing_or_unknown_declaration_is_refused_and_changes_nothing(
    site: Site, declared: str
) -> None:
    await sign_up_and_verify(site)
    await sign_in(site)
    response = await site.post_form("/portal/apps/new", new_app_form(data_access=declared))
    assert response.status_code == 400, response.text
    named = "data_access must not contain" if "\x00" in declared else "how the application reads"
    assert named in response.text
    assert await application_count(site) == 0


async def test_clause_3_2_the_admin_api_takes_the_declaration(site: Site) -> None:
    programme: Programme = await seed_programme(site)
    path = f"/admin/api/developers/{programme.developer_id}/applications"
    made = await site.client.post(
        path, json={"name": "Nightly copy", "dataAccess": "scheduled_sync"}, headers=programme.auth
    )
    assert made.status_code == 201, made.text
    assert made.json()["dataAccess"] == "scheduled_sync"
    assert set(get_args(DataAccess)) == set(DATA_ACCESS)
