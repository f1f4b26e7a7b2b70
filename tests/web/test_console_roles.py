"""Administrator roles in the console: a viewer sees every page and has every form refused (403,
naming the role); only owners reach the administrators page; a disabled administrator cannot
sign in and their open sessions end."""

from __future__ import annotations

from termgate.db.models import Developer, Status
from termgate.db.programme import AdminRole
from tests.web.admin_support import PASSWORD, administrator, audit, colleague, token_row
from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Site, seed_programme
from tests.web.test_console import PAGES, assert_accessible_forms


async def sign_in(site: Site, email: str, password: str = PASSWORD) -> None:
    response = await site.post_form("/console/login", {"email": email, "password": password})
    assert response.status_code == 303, response.text


async def developer_status(site: Site, developer_id: str) -> Status:
    async with site.sessions() as session:
        return (await session.get_one(Developer, developer_id)).status


async def test_clause_3_1_a_viewer_sees_the_pages_and_every_form_is_refused(site: Site) -> None:
    programme = await seed_programme(site)
    viewer = await colleague(site, AdminRole.VIEWER)
    await sign_in(site, viewer.email)
    for path in (*PAGES, "/console/plans", f"/console/developers/{programme.developer_id}"):
        assert (await site.client.get(path)).status_code == 200, path
    home = f"/console/developers/{programme.developer_id}"
    refused = await site.post_form(
        f"/console/status/developer/{programme.developer_id}",
        {"action": "suspend", "reason": "probe"},
        home,
    )
    assert refused.status_code == 403
    assert "this needs the operator role; viewer@provider.example is viewer" in refused.text
    assert await developer_status(site, programme.developer_id) is Status.ACTIVE
    assert (await site.client.get("/console/administrators")).status_code == 403
    assert "/console/administrators" not in (await site.client.get("/console/")).text


async def test_clause_3_1_an_operator_acts_but_does_not_manage_administrators(site: Site) -> None:
    programme = await seed_programme(site)
    operator = await colleague(site, AdminRole.OPERATOR)
    await sign_in(site, operator.email)
    home = f"/console/developers/{programme.developer_id}"
    done = await site.post_form(
        f"/console/status/developer/{programme.developer_id}",
        {"action": "suspend", "reason": "unpaid"},
        home,
    )
    assert done.status_code == 303, done.text
    assert await developer_status(site, programme.developer_id) is Status.SUSPENDED
    page = await site.client.get("/console/administrators")
    assert page.status_code == 403
    assert "needs the owner role" in page.text
    forged = await site.post_form(
        f"/console/administrators/{operator.id}", {"action": "role", "role": "owner"}, home
    )
    assert forged.status_code == 403
    assert (await administrator(site, operator.id)).role is AdminRole.OPERATOR


async def test_clause_3_1_an_owner_manages_administrators_in_the_console(site: Site) -> None:
    await seed_programme(site)
    operator = await colleague(site, AdminRole.OPERATOR)
    await sign_in(site, ADMIN_EMAIL, ADMIN_PASSWORD)
    page = await site.client.get("/console/administrators")
    assert page.status_code == 200
    assert operator.email in page.text
    assert "operator-ci" in page.text
    assert_accessible_forms(page.text)
    here = "/console/administrators"
    path = f"{here}/{operator.id}"
    demoted = await site.post_form(path, {"action": "role", "role": "viewer"}, here)
    assert demoted.status_code == 303
    assert (await administrator(site, operator.id)).role is AdminRole.VIEWER
    off = await site.post_form(path, {"action": "disable", "reason": "left"}, here)
    assert off.status_code == 303
    assert (await administrator(site, operator.id)).disabled_at is not None
    on = await site.post_form(path, {"action": "enable", "reason": "back"}, here)
    assert on.status_code == 303
    revoke = await site.post_form(f"/console/admin-tokens/{operator.token_id}/revoke", {}, here)
    assert revoke.status_code == 303
    assert (await token_row(site, operator.token_id)).revoked_at is not None
    owners = await site.client.get(here)
    me = next(line for line in owners.text.split("<tr>") if ADMIN_EMAIL in line)
    assert "/console/administrators/" in me
    admin_id = me.split("/console/administrators/")[1].split('"')[0]
    last = await site.post_form(f"{here}/{admin_id}", {"action": "role", "role": "viewer"}, here)
    assert last.status_code == 400
    assert "last active owner" in last.text
    actions = [action for actor, action, _ in await audit(site) if actor == ADMIN_EMAIL]
    assert actions[-4:] == [
        "changed-administrator-role",
        "disabled-administrator",
        "enabled-administrator",
        "revoked-admin-token",
    ]


async def test_clause_3_1_a_disabled_administrator_cannot_sign_in_and_is_signed_out(
    site: Site,
) -> None:
    programme = await seed_programme(site)
    operator = await colleague(site, AdminRole.OPERATOR)
    await sign_in(site, operator.email)
    assert (await site.client.get("/console/developers")).status_code == 200
    disabled = await site.client.patch(
        f"/admin/api/administrators/{operator.id}",
        json={"disabled": True, "reason": "left the team"},
        headers=programme.auth,
    )
    assert disabled.status_code == 200
    ended = await site.client.get("/console/developers")
    assert ended.status_code == 303
    assert ended.headers["location"].startswith("/console/login")
    again = await site.post_form("/console/login", {"email": operator.email, "password": PASSWORD})
    assert again.status_code == 400
    assert "this administrator account is disabled" in again.text
    wrong = await site.post_form("/console/login", {"email": operator.email, "password": "nope"})
    assert "wrong e-mail address or password" in wrong.text
