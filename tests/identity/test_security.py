"""The authorization server's security rules, one test each, named by the clause they serve."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from sqlalchemy import select, update

from termgate.core.secrets import hash_key
from termgate.db.models import AccessChange, Application, Environment, utcnow
from termgate.db.oauth import AuthorizationCode, TokenFamily
from termgate.identity.clients import issue_client_secret
from tests.identity.conftest import (
    REDIRECT_URI,
    SCOPES,
    Client,
    World,
    authorize,
    consent_page,
    decide,
    register_client,
)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def request_params(
    client: Client, challenge: str | None, scope: str = SCOPES, **extra: str
) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": scope,
        "state": "st-" + secrets.token_hex(4),
        **extra,
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return params


async def exchange(
    world: World, client: Client, code: str, verifier: str | None, **extra: str
) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    data |= extra
    auth = client.basic if client.secret else None
    if auth is None:
        data["client_id"] = client.client_id
    return await world.site.client.post("/connect/token", data=data, auth=auth)


async def refresh(world: World, client: Client, token: str) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": token}
    return await world.site.client.post("/connect/token", data=data, auth=client.basic)


async def tokens(world: World, scope: str = f"{SCOPES} offline_access") -> dict[str, Any]:
    verifier, challenge = pkce()
    params = request_params(world.confidential, challenge, scope)
    callback = await authorize(world.site, world.sandbox_user, params)
    answer = await exchange(world, world.confidential, callback["code"], verifier)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def family_of(world: World, family_id: str | None = None) -> TokenFamily:
    async with world.site.sessions() as session:
        query = select(TokenFamily)
        if family_id is not None:
            query = query.where(TokenFamily.id == family_id)
        family = await session.scalar(query.order_by(TokenFamily.created_at.desc()).limit(1))
        assert family is not None
        return family


async def changes(world: World, entity: str) -> list[str]:
    async with world.site.sessions() as session:
        rows = await session.scalars(
            select(AccessChange.entity_id).where(AccessChange.entity == entity)
        )
        return list(rows)


async def test_clause_3_3_a_pkce_downgrade_is_refused(world: World) -> None:
    _verifier, challenge = pkce()
    callback = await authorize(
        world.site, world.sandbox_user, request_params(world.confidential, challenge)
    )
    without = await exchange(world, world.confidential, callback["code"], None)
    assert without.status_code == 400
    assert without.json()["error"] == "invalid_request"
    wrong = await exchange(world, world.confidential, callback["code"], pkce()[0])
    assert wrong.json()["error"] == "invalid_grant"


async def test_clause_3_3_a_plain_pkce_is_refused(world: World) -> None:
    params = request_params(world.confidential, None, code_challenge="a" * 43)
    answer = await world.site.client.get("/connect/authorize", params=params)
    assert answer.status_code == 303
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["error"] == ["invalid_request"]
    assert query["state"] == [params["state"]]
    plain = request_params(
        world.confidential, None, code_challenge="a" * 43, code_challenge_method="plain"
    )
    answer = await world.site.client.get("/connect/authorize", params=plain)
    assert parse_qs(urlsplit(answer.headers["location"]).query)["error"] == ["invalid_request"]


async def test_clause_3_3_a_public_client_without_pkce_is_refused(world: World) -> None:
    params = request_params(world.public, None)
    answer = await world.site.client.get("/connect/authorize", params=params)
    assert answer.status_code == 303
    assert "error=invalid_request" in answer.headers["location"]
    _verifier, challenge = pkce()
    callback = await authorize(
        world.site, world.sandbox_user, request_params(world.public, challenge)
    )
    refused = await exchange(world, world.public, callback["code"], None)
    assert refused.json()["error"] == "invalid_request"


async def test_clause_3_3_a_public_client_with_pkce_gets_tokens(world: World) -> None:
    verifier, challenge = pkce()
    callback = await authorize(
        world.site, world.sandbox_user, request_params(world.public, challenge)
    )
    answer = await exchange(world, world.public, callback["code"], verifier)
    assert answer.status_code == 200, answer.text


async def test_clause_3_3_a_redirect_mismatch_is_a_page_never_a_redirect(world: World) -> None:
    _verifier, challenge = pkce()
    for uri in ("https://evil.example/callback", REDIRECT_URI + "/", REDIRECT_URI + "?x=1"):
        params = request_params(world.confidential, challenge) | {"redirect_uri": uri}
        answer = await world.site.client.get("/connect/authorize", params=params)
        assert answer.status_code == 400
        assert "location" not in answer.headers
        assert "not supported by client" in answer.text
    unknown = request_params(world.confidential, challenge) | {"client_id": "nobody"}
    answer = await world.site.client.get("/connect/authorize", params=unknown)
    assert answer.status_code == 400
    assert "location" not in answer.headers


async def test_clause_3_3_a_code_replay_revokes_its_family(world: World) -> None:
    verifier, challenge = pkce()
    params = request_params(world.confidential, challenge, f"{SCOPES} offline_access")
    callback = await authorize(world.site, world.sandbox_user, params)
    first = await exchange(world, world.confidential, callback["code"], verifier)
    assert first.status_code == 200
    replay = await exchange(world, world.confidential, callback["code"], verifier)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    family = await family_of(world)
    assert family.revoked_at is not None
    assert "used twice" in (family.revoke_reason or "")
    assert family.id in await changes(world, "token_family")
    refused = await refresh(world, world.confidential, first.json()["refresh_token"])
    assert refused.json()["error"] == "invalid_grant"


async def test_clause_3_3_a_refresh_token_reuse_revokes_its_family(world: World) -> None:
    issued = await tokens(world)
    rotated = await refresh(world, world.confidential, issued["refresh_token"])
    assert rotated.status_code == 200
    newest = rotated.json()["refresh_token"]
    reuse = await refresh(world, world.confidential, issued["refresh_token"])
    assert reuse.json()["error"] == "invalid_grant"
    family = await family_of(world)
    assert family.revoked_at is not None
    assert family.id in await changes(world, "token_family")
    assert (await refresh(world, world.confidential, newest)).json()["error"] == "invalid_grant"


async def test_clause_3_3_a_withdrawn_consent_stops_refresh_at_once(world: World) -> None:
    issued = await tokens(world)
    apps = await world.site.client.get("/connect/apps")
    assert "Salary Sync" in apps.text
    assert ">Revoke</button>" in apps.text
    family = await family_of(world)
    revoke = await world.site.post_form(
        f"/connect/apps/{family.consent_id}/revoke", {}, "/connect/apps"
    )
    assert revoke.status_code == 303
    refused = await refresh(world, world.confidential, issued["refresh_token"])
    assert refused.json()["error"] == "invalid_grant"
    assert (await family_of(world, family.id)).revoked_at is not None
    assert family.consent_id in await changes(world, "consent")
    assert family.id in await changes(world, "token_family")
    after = (await world.site.client.get("/connect/apps")).text
    assert "Salary Sync can no longer read your data." in after
    assert ">Revoke</button>" not in after
    introspected = await world.site.client.post(
        "/connect/introspect", data={"token": issued["access_token"]}, auth=world.confidential.basic
    )
    assert introspected.json() == {"active": False}


async def test_clause_3_3_a_expired_code_is_refused(world: World) -> None:
    verifier, challenge = pkce()
    callback = await authorize(
        world.site, world.sandbox_user, request_params(world.confidential, challenge)
    )
    async with world.site.sessions.begin() as session:
        row = await session.scalar(select(AuthorizationCode))
        assert row is not None
        assert row.expires_at - row.issued_at == timedelta(minutes=5)
        await session.execute(
            update(AuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    answer = await exchange(world, world.confidential, callback["code"], verifier)
    assert answer.json()["error"] == "invalid_grant"


async def test_clause_3_3_a_another_clients_code_is_refused(world: World) -> None:
    verifier, challenge = pkce()
    callback = await authorize(
        world.site, world.sandbox_user, request_params(world.confidential, challenge)
    )
    thief = await exchange(world, world.public, callback["code"], verifier)
    assert thief.json()["error"] == "invalid_grant"
    owner = await exchange(world, world.confidential, callback["code"], verifier)
    assert owner.status_code == 200


async def test_clause_3_2_sandbox_application_refuses_production_end_user(world: World) -> None:
    sandbox = await register_client(world.site, "Sandbox Tool", environment=Environment.SANDBOX)
    _verifier, challenge = pkce()
    page = await consent_page(world.site, world.production_user, request_params(sandbox, challenge))
    assert page.status_code == 403
    assert "sandbox" in page.text
    assert "Allow" not in page.text


async def test_clause_3_3_a_deny_returns_access_denied_with_state(world: World) -> None:
    _verifier, challenge = pkce()
    params = request_params(world.confidential, challenge)
    page = await consent_page(world.site, world.sandbox_user, params)
    assert ">Allow</button>" in page.text
    assert ">Deny</button>" in page.text
    answer = await decide(world.site, page, "deny")
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert answer.headers["location"].startswith(REDIRECT_URI)
    assert query["error"] == ["access_denied"]
    assert query["state"] == [params["state"]]


async def test_clause_3_3_a_allow_needs_a_debtor(world: World) -> None:
    _verifier, challenge = pkce()
    page = await consent_page(
        world.site, world.accountant, request_params(world.confidential, challenge)
    )
    assert f"Customer account {world.customers[0]}" in page.text
    assert f"Customer account {world.customers[1]}" in page.text
    answer = await decide(world.site, page, "allow", debtors=())
    assert answer.status_code == 400
    assert "Tick at least one customer account" in answer.text


async def test_clause_3_3_e_scope_beyond_the_declared_use_is_invalid_scope(world: World) -> None:
    _verifier, challenge = pkce()
    params = request_params(world.confidential, challenge, f"{SCOPES} employee.bankaccount.read")
    answer = await world.site.client.get("/connect/authorize", params=params)
    assert answer.status_code == 303
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["error"] == ["invalid_scope"]
    assert query["state"] == [params["state"]]


async def test_clause_3_3_a_refresh_token_only_with_offline_access(world: World) -> None:
    without = await tokens(world, SCOPES)
    assert "refresh_token" not in without
    assert without["scope"] == SCOPES
    with_offline = await tokens(world, f"{SCOPES} offline_access")
    assert with_offline["refresh_token"]


async def test_clause_3_3_a_pushed_request_is_single_use(world: World) -> None:
    client = world.confidential
    verifier, challenge = pkce()
    params = request_params(client, challenge)
    anonymous = await world.site.client.post("/connect/par", data=params)
    assert anonymous.status_code == 401
    pushed = await world.site.client.post("/connect/par", data=params, auth=client.basic)
    assert pushed.status_code == 201, pushed.text
    request_uri = pushed.json()["request_uri"]
    assert request_uri.startswith("urn:ietf:params:oauth:request_uri:")
    assert 60 <= pushed.json()["expires_in"] <= 90
    by_reference = {"client_id": client.client_id, "request_uri": request_uri}
    callback = await authorize(world.site, world.sandbox_user, by_reference)
    assert callback["state"] == params["state"]
    assert (await exchange(world, client, callback["code"], verifier)).status_code == 200
    again = await world.site.client.get("/connect/authorize", params=by_reference)
    assert again.status_code == 400
    assert "location" not in again.headers
    bad = await world.site.client.post(
        "/connect/par", data=params | {"redirect_uri": "https://evil.example/"}, auth=client.basic
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_request"


async def test_clause_2_basic_auth_halves_are_percent_encoded(world: World) -> None:
    # The secrets termgate issues are URL-safe; a client's secret stored elsewhere (or a future
    # format) may hold every reserved character, so this one is set as its hash directly.
    secret = "s3cr:t/+%&= ü?"
    async with world.site.sessions.begin() as session:
        application = await session.get(Application, world.confidential.client_id)
        assert application is not None
        application.client_secret_hash = hash_key(secret)
    verifier, challenge = pkce()
    callback = await authorize(
        world.site, world.sandbox_user, request_params(world.confidential, challenge)
    )
    encoded = f"{quote(world.confidential.client_id, safe='')}:{quote(secret, safe='')}"
    header = "Basic " + base64.b64encode(encoded.encode()).decode()
    data = {
        "grant_type": "authorization_code",
        "code": callback["code"],
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    raw = f"{world.confidential.client_id}:{secret}"
    wrong = "Basic " + base64.b64encode(raw.encode()).decode()
    refused = await world.site.client.post(
        "/connect/token", data=data, headers={"Authorization": wrong}
    )
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    answer = await world.site.client.post(
        "/connect/token", data=data, headers={"Authorization": header}
    )
    assert answer.status_code == 200, answer.text


async def test_clause_2_replaced_client_secret_stops_working(world: World) -> None:
    async with world.site.sessions.begin() as session:
        application = await session.get(Application, world.confidential.client_id)
        assert application is not None
        await issue_client_secret(session, application, "tests")
    verifier, challenge = pkce()
    callback = await authorize(
        world.site, world.sandbox_user, request_params(world.confidential, challenge)
    )
    answer = await exchange(world, world.confidential, callback["code"], verifier)
    assert answer.status_code == 401
