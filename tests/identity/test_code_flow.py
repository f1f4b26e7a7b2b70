"""Clause 3.3 a: the whole authorization-code flow, driven by Authlib's own client."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl, urlsplit

from authlib.integrations.httpx_client import AsyncOAuth2Client
from sqlalchemy import func, select

from termgate.db.oauth import Consent, RefreshToken
from termgate.db.programme import AuditEntry
from termgate.identity.tokens import VerifiedTokens
from tests.identity.conftest import ISSUER, REDIRECT_URI, SCOPES, World, authorize

TOKEN_URL = f"{ISSUER}/connect/token"


def oauth_client(world: World, scope: str) -> AsyncOAuth2Client:
    client = world.confidential
    return AsyncOAuth2Client(
        client_id=client.client_id,
        client_secret=client.secret,
        scope=scope,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
        transport=world.site.client._transport,
    )


async def test_clause_3_3_a_code_flow_refresh_introspect_with_authlib_client(world: World) -> None:
    site, user = world.site, world.accountant
    customer = world.customers[1]  # one of the accountant's two
    verifier = secrets.token_urlsafe(48)
    async with oauth_client(world, f"{SCOPES} offline_access") as client:
        url, state = client.create_authorization_url(
            f"{ISSUER}/connect/authorize", code_verifier=verifier
        )
        params = dict(parse_qsl(urlsplit(url).query))
        callback = await authorize(site, user, params, debtors=(customer,))
        assert callback["state"] == state
        response = f"{REDIRECT_URI}?code={callback['code']}&state={callback['state']}"
        token = await client.fetch_token(
            TOKEN_URL, authorization_response=response, code_verifier=verifier
        )
        assert token["token_type"] == "Bearer"
        assert token["expires_in"] == 3600
        assert token["scope"] == f"{SCOPES} offline_access"
        assert token["refresh_token"].startswith("tgr_")

        jwks = (await site.client.get("/.well-known/jwks.json")).json()
        claims = VerifiedTokens(jwks, ISSUER).verify(token["access_token"])
        assert claims.client_id == world.confidential.client_id
        assert claims.end_user_id == user.id
        assert claims.upstream_user_id == user.upstream_id
        assert claims.debtors == {customer}
        assert {"employee.info.read", "company.info.read"} <= claims.scopes

        refreshed = await client.refresh_token(TOKEN_URL, refresh_token=token["refresh_token"])
        assert refreshed["refresh_token"] != token["refresh_token"]
        assert refreshed["access_token"] != token["access_token"]

        introspect = f"{ISSUER}/connect/introspect"
        active = (await client.introspect_token(introspect, token=refreshed["access_token"])).json()
        assert active["active"] is True
        assert active["client_id"] == world.confidential.client_id
        assert active["sub"] == user.id
        assert set(active["scope"].split()) >= {"employee.info.read", "company.info.read"}
        assert active["exp"] > 0
        old = await client.introspect_token(introspect, token=token["refresh_token"])
        assert old.json() == {"active": False}
        current = await client.introspect_token(
            introspect, token=refreshed["refresh_token"], token_type_hint="refresh_token"
        )
        assert current.json()["active"] is True

        revoked = await client.revoke_token(
            f"{ISSUER}/connect/revocation", token=refreshed["access_token"]
        )
        assert revoked.status_code == 200
        after = await client.introspect_token(introspect, token=refreshed["refresh_token"])
        assert after.json() == {"active": False}

    async with site.sessions() as session:
        consent = await session.scalar(select(Consent))
        assert consent is not None
        assert consent.debtors == (customer,)
        assert consent.consent_text_version == "consent-1"
        assert await session.scalar(select(func.count()).select_from(RefreshToken)) == 2
        actions = set(await session.scalars(select(AuditEntry.action)))
        assert {"granted-consent", "revoked-token-family"} <= actions
