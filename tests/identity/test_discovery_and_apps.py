"""Discovery documents, suspended clients, and the end user's connected-apps page and exports
(clause 3.3 l: GDPR Art. 7(1) consent records, Art. 15 access)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from termgate.db.models import Status, UsageEvent
from termgate.db.oauth import Consent
from termgate.registry.status import change_status
from tests.identity.conftest import ISSUER, PASSWORD, World, authorize, sign_in
from tests.identity.test_security import exchange, pkce, request_params, tokens


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]
)
async def test_clause_3_3_a_discovery_document(world: World, path: str) -> None:
    document = (await world.site.client.get(path)).json()
    assert document["issuer"] == ISSUER
    assert document["authorization_endpoint"] == f"{ISSUER}/connect/authorize"
    assert document["token_endpoint"] == f"{ISSUER}/connect/token"
    assert document["pushed_authorization_request_endpoint"] == f"{ISSUER}/connect/par"
    assert document["revocation_endpoint"] == f"{ISSUER}/connect/revocation"
    assert document["introspection_endpoint"] == f"{ISSUER}/connect/introspect"
    assert document["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert set(document["grant_types_supported"]) == {"authorization_code", "refresh_token"}
    assert "client_secret_basic" in document["token_endpoint_auth_methods_supported"]
    assert {"employee.info.read", "offline_access"} <= set(document["scopes_supported"])
    keys = (await world.site.client.get("/.well-known/jwks.json")).json()["keys"]
    assert keys[0]["alg"] == "ES256"
    assert "d" not in keys[0]


async def test_clause_3_1_suspended_application_is_no_client(world: World) -> None:
    verifier, challenge = pkce()
    params = request_params(world.confidential, challenge)
    async with world.site.sessions.begin() as session:
        await change_status(
            session, "application", world.confidential.client_id, Status.SUSPENDED, "probe", "ops"
        )
    answer = await world.site.client.get("/connect/authorize", params=params)
    assert answer.status_code == 400
    assert "location" not in answer.headers
    token = await exchange(world, world.confidential, "whatever", verifier)
    assert token.status_code == 401
    assert token.json()["error"] == "invalid_client"


async def test_clause_3_3_a_introspection_shows_a_client_only_its_own_tokens(world: World) -> None:
    issued = await tokens(world)
    other = await world.site.client.post(
        "/connect/introspect", data={"token": issued["access_token"]}, auth=("x", "y")
    )
    assert other.status_code == 401
    anonymous = await world.site.client.post(
        "/connect/introspect",
        data={"token": issued["access_token"], "client_id": world.public.client_id},
    )
    assert anonymous.status_code in (400, 401)
    verifier, challenge = pkce()
    callback = await authorize(
        world.site, world.sandbox_user, request_params(world.public, challenge)
    )
    public_token = (await exchange(world, world.public, callback["code"], verifier)).json()
    foreign = await world.site.client.post(
        "/connect/introspect",
        data={"token": public_token["access_token"]},
        auth=world.confidential.basic,
    )
    assert foreign.json() == {"active": False}
    own = await world.site.client.post(
        "/connect/introspect", data={"token": issued["access_token"]}, auth=world.confidential.basic
    )
    assert own.json()["active"] is True


async def test_end_user_login_has_labelled_fields_and_refuses_a_wrong_password(
    world: World,
) -> None:
    page = await world.site.client.get("/connect/login")
    assert '<label for="username">Username</label>' in page.text
    assert '<label for="password">Password</label>' in page.text
    token = await world.site.csrf("/connect/login")
    wrong = await world.site.client.post(
        "/connect/login",
        data={"csrf_token": token, "username": world.sandbox_user.username, "password": "nope"},
    )
    assert wrong.status_code == 400
    assert "wrong username or password" in wrong.text
    assert (await world.site.client.get("/connect/apps")).status_code == 303
    right = await world.site.client.post(
        "/connect/login",
        data={
            "csrf_token": await world.site.csrf("/connect/login"),
            "username": world.sandbox_user.username,
            "password": PASSWORD,
            "next": "/connect/apps",
        },
    )
    assert right.status_code == 303, right.text
    assert right.headers["location"] == "/connect/apps"
    assert (await world.site.client.get("/connect/apps")).status_code == 200


async def test_clause_3_3_l_connected_apps_and_exports(world: World) -> None:
    await tokens(world)
    async with world.site.sessions() as session:
        consent = await session.scalar(select(Consent))
        assert consent is not None
    async with world.site.sessions.begin() as session:
        for request_id, end_user in (("r-1", world.sandbox_user), ("r-2", world.accountant)):
            session.add(
                UsageEvent(
                    at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
                    request_id=request_id,
                    application_id=world.confidential.client_id,
                    method="GET",
                    operation="/api/companies/{companyId}/employees",
                    data_category="employee.info",
                    status=200,
                    latency_ms=3.0,
                    end_user_id=end_user.id,
                )
            )
    apps = await world.site.client.get("/connect/apps")
    assert "Salary Sync" in apps.text
    assert "Salary Sync B.V." in apps.text
    assert "View employee information: personal info, address, family data" in apps.text
    customer = world.customers[0]
    assert f"Customer account {customer} · {customer}" in apps.text
    assert "employee.info: 02 Mar 2026 09:30 UTC" in apps.text
    await world.site.post_form(f"/connect/apps/{consent.id}/revoke", {}, "/connect/apps")

    exported = await world.site.client.get("/connect/apps/export/consents")
    assert exported.headers["content-disposition"] == 'attachment; filename="consents.json"'
    [record] = exported.json()["consents"]
    assert record["id"] == consent.id
    assert record["scopes"] == ["employee.info.read", "company.info.read", "offline_access"]
    assert record["debtors"] == [customer]  # ids are strings (a GUID or a number)
    assert record["consent_text_version"] == "consent-1"
    assert record["withdrawn_at"] is not None
    assert record["withdrawal_reason"].startswith("revoked by the end user")

    log = (await world.site.client.get("/connect/apps/export/access-log")).json()
    assert [event["request_id"] for event in log["events"]] == ["r-1"]  # not the accountant's


async def test_clause_3_3_l_pages_need_the_end_user_signed_in(world: World) -> None:
    for path in (
        "/connect/apps",
        "/connect/apps/export/consents",
        "/connect/apps/export/access-log",
    ):
        answer = await world.site.client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/connect/login?next=")
    signed_in = await sign_in(world.site, world.sandbox_user, "/connect/apps")
    assert signed_in.headers["location"] == "/connect/apps"
    outside = await sign_in(world.site, world.sandbox_user, "https://evil.example/")
    assert outside.headers["location"] == "/connect/apps"
