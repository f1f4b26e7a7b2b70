"""Administrator roles in the admin API: viewers read, operators act on the programme, owners
also manage administrators and tokens; disabled, expired and revoked tokens are refused at once;
the last active owner stays; the last use of a token is written at most once a minute."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update

from termgate.db.models import utcnow
from termgate.db.programme import AdminRole, AdminToken
from tests.web.admin_support import administrator, audit, colleague, token_row
from tests.web.conftest import ADMIN_EMAIL, Site, seed_programme

API = "/admin/api"


def assert_role_refused(response: httpx.Response, role: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert (problem["code"], problem["type"]) == (40312, "authenticationError")
    assert f"needs the {role} role" in problem["detail"]


async def test_clause_3_1_viewer_reads_and_every_write_is_refused_with_403(site: Site) -> None:
    programme = await seed_programme(site)
    viewer = await colleague(site, AdminRole.VIEWER)
    listed = await site.client.get(f"{API}/developers", headers=viewer.auth)
    assert listed.status_code == 200, listed.text
    suspend = await site.client.post(
        f"{API}/developers/{programme.developer_id}/suspend",
        json={"reason": "probe"},
        headers=viewer.auth,
    )
    assert_role_refused(suspend, "operator")
    shown = await site.client.get(f"{API}/developers/{programme.developer_id}", headers=viewer.auth)
    assert shown.json()["status"] == "active"
    owners_only = await site.client.get(f"{API}/administrators", headers=viewer.auth)
    assert_role_refused(owners_only, "owner")


async def test_clause_3_1_operator_acts_on_the_programme_but_not_on_administrators(
    site: Site,
) -> None:
    programme = await seed_programme(site)
    operator = await colleague(site, AdminRole.OPERATOR)
    suspended = await site.client.post(
        f"{API}/developers/{programme.developer_id}/suspend",
        json={"reason": "unpaid invoices"},
        headers=operator.auth,
    )
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"
    for method, path, body in (
        ("GET", "/administrators", None),
        ("GET", "/admin-tokens", None),
        ("POST", f"/administrators/{operator.id}/tokens", {"label": "more"}),
        ("PATCH", f"/administrators/{operator.id}", {"role": "owner"}),
    ):
        response = await site.client.request(method, API + path, json=body, headers=operator.auth)
        assert_role_refused(response, "owner")
    assert (await administrator(site, operator.id)).role is AdminRole.OPERATOR
    entries = await audit(site)
    assert ("token:operator-ci (operator@provider.example)", "suspended") in [
        (actor, action) for actor, action, _ in entries
    ]


async def test_clause_3_1_owner_manages_administrators_and_tokens(site: Site) -> None:
    programme = await seed_programme(site)
    owner = programme.auth
    created = await site.client.post(
        f"{API}/administrators",
        json={"email": "Kim@Provider.example", "name": "Kim", "role": "viewer"},
        headers=owner,
    )
    assert created.status_code == 201, created.text
    kim = created.json()
    assert (kim["email"], kim["role"]) == ("kim@provider.example", "viewer")
    assert kim["disabledAt"] is None
    promoted = await site.client.patch(
        f"{API}/administrators/{kim['id']}", json={"role": "operator"}, headers=owner
    )
    assert promoted.json()["role"] == "operator"
    expiry = (utcnow() + timedelta(days=30)).isoformat()
    issued = await site.client.post(
        f"{API}/administrators/{kim['id']}/tokens",
        json={"label": "deploy bot", "expiresAt": expiry},
        headers=owner,
    )
    assert issued.status_code == 201, issued.text
    token = issued.json()
    assert token["token"].startswith("tga_")
    assert token["expiresAt"]
    assert not token["lastUsedAt"]
    kim_auth = {"Authorization": f"Bearer {token['token']}"}
    assert (await site.client.get(f"{API}/developers", headers=kim_auth)).status_code == 200
    listed = (await site.client.get(f"{API}/admin-tokens", headers=owner)).json()["data"]
    mine = next(row for row in listed if row["id"] == token["id"])
    assert mine["label"] == "deploy bot"
    assert mine["lastUsedAt"]
    assert "token" not in mine
    revoked = await site.client.post(f"{API}/admin-tokens/{token['id']}/revoke", headers=owner)
    assert revoked.status_code == 200
    assert revoked.json()["revokedAt"]
    refused = await site.client.get(f"{API}/developers", headers=kim_auth)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the token was revoked"
    again = await site.client.post(f"{API}/admin-tokens/{token['id']}/revoke", headers=owner)
    assert again.status_code == 409
    actor = f"token:tests ({ADMIN_EMAIL})"
    trail = [(a, action) for a, action, _ in await audit(site)]
    for action in (
        "created-administrator",
        "changed-administrator-role",
        "issued-admin-token",
        "revoked-admin-token",
    ):
        assert (actor, action) in trail, action


async def test_clause_3_1_the_last_active_owner_is_neither_demoted_nor_disabled(
    site: Site,
) -> None:
    programme = await seed_programme(site)
    owners = (await site.client.get(f"{API}/administrators", headers=programme.auth)).json()
    [me] = [row for row in owners["data"] if row["email"] == ADMIN_EMAIL]
    path = f"{API}/administrators/{me['id']}"
    for body in ({"role": "operator"}, {"disabled": True, "reason": "leaving"}):
        refused = await site.client.patch(path, json=body, headers=programme.auth)
        assert refused.status_code == 409, refused.text
        assert "last active owner" in refused.json()["detail"]
    assert (await administrator(site, me["id"])).role is AdminRole.OWNER
    other = await colleague(site, AdminRole.OWNER, "second-owner")
    demoted = await site.client.patch(path, json={"role": "viewer"}, headers=other.auth)
    assert demoted.json()["role"] == "viewer"
    last = await site.client.patch(
        f"{API}/administrators/{other.id}",
        json={"disabled": True, "reason": "x"},
        headers=other.auth,
    )
    assert last.status_code == 409


async def test_clause_3_1_a_disabled_administrators_tokens_stop_at_once(site: Site) -> None:
    programme = await seed_programme(site)
    operator = await colleague(site, AdminRole.OPERATOR)
    assert (await site.client.get(f"{API}/keys", headers=operator.auth)).status_code == 200
    disabled = await site.client.patch(
        f"{API}/administrators/{operator.id}",
        json={"disabled": True, "reason": "left the team"},
        headers=programme.auth,
    )
    assert disabled.status_code == 200
    assert disabled.json()["disabledAt"]
    refused = await site.client.get(f"{API}/keys", headers=operator.auth)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the administrator operator@provider.example is disabled"
    no_reason = await site.client.patch(
        f"{API}/administrators/{operator.id}", json={"disabled": False}, headers=programme.auth
    )
    assert no_reason.status_code == 400
    enabled = await site.client.patch(
        f"{API}/administrators/{operator.id}",
        json={"disabled": False, "reason": "back"},
        headers=programme.auth,
    )
    assert enabled.json()["disabledAt"] is None
    assert (await site.client.get(f"{API}/keys", headers=operator.auth)).status_code == 200


async def test_clause_3_1_an_expired_token_is_refused(site: Site) -> None:
    await seed_programme(site)
    viewer = await colleague(site, AdminRole.VIEWER)
    async with site.sessions.begin() as session:
        await session.execute(
            update(AdminToken)
            .where(AdminToken.id == viewer.token_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    refused = await site.client.get(f"{API}/developers", headers=viewer.auth)
    assert refused.status_code == 401
    assert refused.json()["detail"].startswith("the token expired at ")
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]


async def test_clause_3_1_an_expiry_in_the_past_or_far_ahead_is_refused(site: Site) -> None:
    programme = await seed_programme(site)
    viewer = await colleague(site, AdminRole.VIEWER)
    path = f"{API}/administrators/{viewer.id}/tokens"
    for when, why in (
        ((utcnow() - timedelta(minutes=1)).isoformat(), "in the future"),
        ((utcnow() + timedelta(days=4000)).isoformat(), "ten years"),
        ("9999-12-31T23:59:59-23:59", "out of range"),
    ):
        response = await site.client.post(
            path, json={"label": "x", "expiresAt": when}, headers=programme.auth
        )
        assert response.status_code == 400
        assert response.json()["invalid-params"][0]["name"] == "expiresAt"
        assert why in response.json()["detail"]
    naive = await site.client.post(
        path, json={"label": "x", "expiresAt": "2030-01-01T00:00:00"}, headers=programme.auth
    )
    assert naive.status_code == 400


async def test_clause_3_1_last_use_is_recorded_at_most_once_a_minute(site: Site) -> None:
    await seed_programme(site)
    viewer = await colleague(site, AdminRole.VIEWER)
    assert (await token_row(site, viewer.token_id)).last_used_at is None
    await site.client.get(f"{API}/developers", headers=viewer.auth)
    first = (await token_row(site, viewer.token_id)).last_used_at
    assert first is not None
    assert utcnow() - first < timedelta(seconds=30)
    await site.client.get(f"{API}/developers", headers=viewer.auth)
    assert (await token_row(site, viewer.token_id)).last_used_at == first
    earlier = utcnow() - timedelta(minutes=2)
    async with site.sessions.begin() as session:
        await session.execute(
            update(AdminToken).where(AdminToken.id == viewer.token_id).values(last_used_at=earlier)
        )
    await site.client.get(f"{API}/developers", headers=viewer.auth)
    latest = (await token_row(site, viewer.token_id)).last_used_at
    assert latest is not None
    assert latest > earlier + timedelta(minutes=1)
