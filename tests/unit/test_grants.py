"""The authorization-code and refresh grants (clause 3.3 a), in process: the authorization server
runs on the request's session as the token endpoint runs it, with a pinned clock."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.oauth2.rfc6749 import InvalidGrantError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import Application
from termgate.db.oauth import AuthorizationCode, Consent, RefreshToken, TokenFamily
from termgate.identity.clients import issue_client_secret
from termgate.identity.consents import grant_consent, withdraw
from termgate.identity.oauth.authorization import (
    AuthorizationRefusedError,
    answer_authorization,
)
from termgate.identity.oauth.context import OAuthContext
from termgate.identity.oauth.grants import (
    CodeGrant,
    RefreshGrant,
    digest,
    find_refresh_token,
    grantee_of_spent,
)
from termgate.identity.oauth.models import Grantee, OAuthClient
from termgate.identity.oauth.runner import run_authorization_server
from termgate.identity.oauth.server import HttpRequest, OAuthResponse, TermgateAuthorizationServer
from termgate.identity.tokens import VerifiedTokens, open_family, public_keys
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from termgate.registry.terms import accept_terms, publish_reference_terms
from termgate.settings import Settings, load_settings
from tests.unit.identity_support import end_users

Sessions = async_sessionmaker[AsyncSession]
ISSUER = "https://id.example"
REDIRECT = "https://app.example/callback"
SCOPE = "employee.info.read offline_access"
API_SCOPES = ["employee.info.read", "company.info.read"]
T0 = datetime(2027, 3, 15, 12, tzinfo=UTC)


class PinnedSettings(Settings):
    """termgate's settings with the clock standing still at `pinned`."""

    pinned: datetime = T0

    def now(self) -> datetime:
        return self.pinned


@dataclass
class World:
    session: AsyncSession
    confidential: Application
    secret: str
    public: Application
    grantee: Grantee
    verifier: str

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    async def run(self, action: Any, at: datetime = T0) -> Any:
        settings = PinnedSettings(public_url=ISSUER, pinned=at)
        return await run_authorization_server(self.session, settings, API_SCOPES, action)

    async def authorize(
        self, client: Application | None = None, at: datetime = T0, **changes: str | None
    ) -> str:
        """The code the authorization endpoint puts on the redirect URI once allowed."""
        client = client or self.confidential
        fields: dict[str, str | None] = {
            "response_type": "code",
            "client_id": client.id,
            "redirect_uri": REDIRECT,
            "scope": SCOPE,
            "state": "s1",
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
        }
        fields.update(changes)
        parameters = [(name, value) for name, value in fields.items() if value is not None]
        grantee = self.grantee
        answer: OAuthResponse = await self.run(
            lambda server: answer_authorization(server, parameters, grantee), at
        )
        query = parse_qs(urlsplit(answer.location or "").query)
        assert query["state"] == ["s1"]
        return query["code"][0]

    async def token(
        self, fields: dict[str, str], at: datetime = T0, client: Application | None = None
    ) -> OAuthResponse:
        client = client or self.confidential
        headers = {}
        if client is self.confidential:
            basic = base64.b64encode(f"{client.id}:{self.secret}".encode()).decode()
            headers["authorization"] = f"Basic {basic}"
        else:
            fields = {**fields, "client_id": client.id}
        request = HttpRequest("POST", "/connect/token", headers, list(fields.items()))

        def act(server: TermgateAuthorizationServer) -> OAuthResponse:
            return server.answer(request, server.create_token_response)

        answer: OAuthResponse = await self.run(act, at)
        return answer

    async def exchange(self, code: str, at: datetime = T0, **fields: str) -> OAuthResponse:
        fields = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": self.verifier,
            **fields,
        }
        return await self.token(fields, at)

    async def refresh(self, token: str, at: datetime = T0) -> OAuthResponse:
        return await self.token({"grant_type": "refresh_token", "refresh_token": token}, at)

    async def family(self) -> TokenFamily:
        await self.session.refresh(self.grantee.family)
        return self.grantee.family


@pytest.fixture
async def world(db: Sessions) -> Any:
    async with db.begin() as session:
        developer = await create_developer(
            session, email="ann@example.nl", name="Ann", actor="tests"
        )
        terms = await publish_reference_terms(session, load_settings())
        await accept_terms(session, developer, terms, "192.0.2.7", "pytest")

        async def client(name: str) -> Application:
            return await create_application(
                session,
                developer,
                name=name,
                requested_scopes="employee.info.read company.info.read",
                redirect_uris=REDIRECT,
                actor="tests",
            )

        confidential, public = await client("Confidential"), await client("Public")
        secret = await issue_client_secret(session, confidential, "developer")
        (user,) = await end_users(session, 1)
        consent = await grant_consent(
            session,
            end_user=user,
            application=confidential,
            scopes=SCOPE,
            debtors=["1"],
            ip="192.0.2.1",
            user_agent="ua",
            now=T0,
        )
        grantee = Grantee(user, consent, await open_family(session, consent))
        yield World(session, confidential, secret, public, grantee, secrets.token_urlsafe(48))


def error_of(answer: OAuthResponse) -> tuple[int, str, str]:
    assert isinstance(answer.body, dict)
    return answer.status, answer.body["error"], answer.body.get("error_description", "")


async def test_clause_3_3_a_code_is_exchanged_once_for_tokens_of_its_grant(world: World) -> None:
    code = await world.authorize()
    stored = await world.session.scalar(select(AuthorizationCode))
    assert stored is not None
    assert (stored.scope, stored.redirect_uri, stored.code_challenge_method) == (
        SCOPE,
        REDIRECT,
        "S256",
    )
    assert (stored.issued_at, stored.expires_at) == (T0, T0 + timedelta(minutes=5))
    answer = await world.exchange(code)
    assert answer.status == 200, answer.body
    assert isinstance(answer.body, dict)
    assert (answer.body["scope"], answer.body["token_type"]) == (SCOPE, "Bearer")
    assert answer.body["refresh_token"].startswith("tgr_")
    claims = VerifiedTokens(await public_keys(world.session), ISSUER).verify(
        answer.body["access_token"], T0.timestamp()
    )
    family = await world.family()
    assert (claims.client_id, claims.family_id, claims.consent_id, claims.debtors) == (
        world.confidential.id,
        family.id,
        world.grantee.consent.id,
        frozenset({"1"}),
    )
    assert family.revoked_at is None
    await world.session.refresh(stored)
    assert stored.used_at == T0
    # The same code again: a replay, which ends the whole grant (RFC 9700 §4.5).
    again = await world.exchange(code, T0 + timedelta(seconds=1))
    assert error_of(again)[:2] == (400, "invalid_grant")
    family = await world.family()
    assert family.revoke_reason == "authorization code used twice"
    refused = await world.refresh(answer.body["refresh_token"], T0 + timedelta(seconds=2))
    assert error_of(refused)[:2] == (400, "invalid_grant")


async def test_clause_3_3_a_code_needs_its_verifier_and_its_redirect_uri(world: World) -> None:
    code = await world.authorize()
    wrong = await world.exchange(code, code_verifier=secrets.token_urlsafe(48))
    assert error_of(wrong)[:2] == (400, "invalid_grant")
    elsewhere = await world.exchange(code, redirect_uri="https://app.example/other")
    assert error_of(elsewhere)[:2] == (400, "invalid_grant")
    assert (await world.exchange(code)).status == 200  # neither spent the code
    assert (await world.family()).revoked_at is None


async def test_clause_3_3_a_code_expires_after_five_minutes(world: World) -> None:
    code = await world.authorize()
    expired = await world.exchange(code, T0 + timedelta(minutes=5))
    assert error_of(expired)[:2] == (400, "invalid_grant")
    assert (await world.family()).revoked_at is None  # expiry is no replay
    last = await world.exchange(code, T0 + timedelta(minutes=5) - timedelta(microseconds=1))
    assert last.status == 200


async def test_clause_3_3_a_another_clients_code_is_unknown_to_it(world: World) -> None:
    code = await world.authorize()
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": world.verifier,
    }
    stolen = await world.token(fields, client=world.public)
    assert error_of(stolen)[:2] == (400, "invalid_grant")
    assert (await world.family()).revoked_at is None  # it says nothing about the owner's grant
    assert (await world.exchange(code)).status == 200
    assert error_of(await world.exchange("not-a-code"))[:2] == (400, "invalid_grant")


async def test_clause_3_3_a_code_of_a_withdrawn_consent_is_refused(world: World) -> None:
    code = await world.authorize()
    consent = world.grantee.consent
    await withdraw(world.session, consent, "changed my mind", "end-user:x", T0)
    answer = await world.exchange(code, T0 + timedelta(seconds=1))
    assert error_of(answer)[:2] == (400, "invalid_grant")


async def test_clause_3_3_a_pkce_is_s256_and_required_of_public_clients(world: World) -> None:
    with pytest.raises(
        AuthorizationRefusedError,
        match=r"^a public client must send a PKCE code_challenge \(S256\)$",
    ):
        await world.authorize(world.public, code_challenge=None, code_challenge_method=None)
    with pytest.raises(AuthorizationRefusedError, match=r"^code_challenge_method must be S256$"):
        await world.authorize(code_challenge_method="plain")
    with pytest.raises(AuthorizationRefusedError, match=r"^code_challenge_method must be S256$"):
        await world.authorize(code_challenge_method=None)
    # A confidential client may leave PKCE out; then no verifier is asked for.
    code = await world.authorize(code_challenge=None, code_challenge_method=None)
    stored = await world.session.scalar(
        select(AuthorizationCode).where(AuthorizationCode.code_challenge.is_(None))
    )
    assert stored is not None
    assert stored.code_challenge_method is None
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert (await world.token(fields)).status == 200


async def test_clause_3_3_a_refresh_rotates_and_a_reused_token_ends_the_grant(
    world: World,
) -> None:
    first = (await world.exchange(await world.authorize())).body
    assert isinstance(first, dict)
    later = T0 + timedelta(hours=1)
    second = (await world.refresh(first["refresh_token"], later)).body
    assert isinstance(second, dict)
    assert second["refresh_token"] != first["refresh_token"]
    assert second["scope"] == SCOPE
    query = select(RefreshToken).order_by(RefreshToken.issued_at)
    rows = (await world.session.scalars(query)).all()
    assert [(row.rotated_at, row.issued_at) for row in rows] == [(later, T0), (None, later)]
    assert rows[1].expires_at == later + timedelta(days=30)
    reused = await world.refresh(first["refresh_token"], later + timedelta(seconds=1))
    assert error_of(reused)[:2] == (400, "invalid_grant")
    assert (await world.family()).revoke_reason == "refresh token used twice"
    after = await world.refresh(second["refresh_token"], later + timedelta(seconds=2))
    assert error_of(after)[:2] == (400, "invalid_grant")


async def test_clause_3_3_a_refresh_token_expires_after_thirty_days(world: World) -> None:
    token = (await world.exchange(await world.authorize())).body
    assert isinstance(token, dict)
    ends = T0 + timedelta(days=30)
    expired = await world.refresh(token["refresh_token"], ends)
    assert error_of(expired)[:2] == (400, "invalid_grant")
    assert (await world.family()).revoked_at is None
    assert (await world.refresh(token["refresh_token"], ends - timedelta(seconds=1))).status == 200


async def test_clause_3_3_a_refresh_after_withdrawal_is_refused(world: World) -> None:
    token = (await world.exchange(await world.authorize())).body
    assert isinstance(token, dict)
    await withdraw(world.session, world.grantee.consent, "no more", "end-user:x", T0)
    refused = await world.refresh(token["refresh_token"], T0 + timedelta(seconds=1))
    assert error_of(refused)[:2] == (400, "invalid_grant")
    assert error_of(await world.refresh("tgr_unknown"))[:2] == (400, "invalid_grant")


async def test_clause_3_3_a_a_credential_spent_by_a_concurrent_request_ends_the_grant(
    world: World,
) -> None:
    """The conditional UPDATE found the code (or refresh token) already spent: the request that
    lost the race is a replay."""
    family = world.grantee.family
    context = OAuthContext(None, load_settings(), T0, None, {}, [])  # type: ignore[arg-type]
    with pytest.raises(InvalidGrantError, match="the authorization code was already used"):
        grantee_of_spent(context, None, family, "authorization code", "code")
    assert context.revocations == [(family.id, "authorization code used twice")]


async def test_clause_3_3_a_introspection_reports_a_live_refresh_token(world: World) -> None:
    token = (await world.exchange(await world.authorize())).body
    assert isinstance(token, dict)
    basic = base64.b64encode(f"{world.confidential.id}:{world.secret}".encode()).decode()
    request = HttpRequest(
        "POST",
        "/connect/introspect",
        {"authorization": f"Basic {basic}"},
        [("token", token["refresh_token"])],
    )

    def introspect(server: TermgateAuthorizationServer) -> OAuthResponse:
        return server.answer(
            request, lambda oauth: server.create_endpoint_response("introspection", oauth)
        )

    answer: OAuthResponse = await world.run(introspect, T0 + timedelta(days=1))
    assert isinstance(answer.body, dict)
    assert (answer.body["active"], answer.body["token_type"]) == (True, "refresh_token")
    assert answer.body["exp"] == int((T0 + timedelta(days=30)).timestamp())


async def test_clause_3_3_a_a_refresh_token_spent_or_withdrawn_meanwhile_is_refused(
    world: World,
) -> None:
    """Between finding a refresh token and rotating it, another request may have rotated it
    (the loser is a replay) or the end user may have withdrawn the consent."""
    first = (await world.exchange(await world.authorize())).body
    second = (await world.exchange(await world.authorize())).body  # a live token beside it
    assert isinstance(first, dict)
    assert isinstance(second, dict)
    family_id = world.grantee.family.id

    def rotated_meanwhile(server: TermgateAuthorizationServer) -> None:
        context = server.context
        credential = find_refresh_token(context, first["refresh_token"], detect_reuse=True)
        assert credential is not None
        spend = update(RefreshToken).where(
            RefreshToken.token_hash == digest(first["refresh_token"])
        )
        context.db.execute(spend.values(rotated_at=T0))
        with pytest.raises(InvalidGrantError) as refused:
            RefreshGrant(None, server).authenticate_user(credential)
        assert refused.value.description == "the refresh token was already used"
        assert context.revocations == [(family_id, "refresh token used twice")]

    def withdrawn_meanwhile(server: TermgateAuthorizationServer) -> None:
        context = server.context
        credential = find_refresh_token(context, second["refresh_token"], detect_reuse=True)
        assert credential is not None
        context.db.get_one(Consent, world.grantee.consent.id).withdrawn_at = T0
        with pytest.raises(InvalidGrantError) as refused:
            RefreshGrant(None, server).authenticate_user(credential)
        assert refused.value.description == ("the consent behind this refresh token was withdrawn")
        assert context.revocations == []

    await world.run(withdrawn_meanwhile)
    await world.session.refresh(world.grantee.consent)
    world.grantee.consent.withdrawn_at = None
    await world.run(rotated_meanwhile)
    assert (await world.family()).revoke_reason == "refresh token used twice"


async def test_clause_3_3_a_a_code_spent_or_withdrawn_meanwhile_is_refused(
    world: World,
) -> None:
    code, other = await world.authorize(), await world.authorize()
    family_id = world.grantee.family.id

    def spent_meanwhile(server: TermgateAuthorizationServer) -> None:
        grant = CodeGrant(None, server)
        issued = grant.query_authorization_code(other, OAuthClient(world.confidential))
        assert issued is not None
        spend = update(AuthorizationCode).where(AuthorizationCode.code_hash == digest(other))
        server.context.db.execute(spend.values(used_at=T0))
        with pytest.raises(InvalidGrantError) as refused:
            grant.authenticate_user(issued)
        assert refused.value.description == "the authorization code was already used"
        assert server.context.revocations == [(family_id, "authorization code used twice")]

    def withdrawn_meanwhile(server: TermgateAuthorizationServer) -> None:
        grant = CodeGrant(None, server)
        issued = grant.query_authorization_code(code, OAuthClient(world.confidential))
        assert issued is not None
        server.context.db.get_one(Consent, world.grantee.consent.id).withdrawn_at = T0
        with pytest.raises(InvalidGrantError) as refused:
            grant.authenticate_user(issued)
        assert refused.value.description == "the consent behind this code was withdrawn"

    await world.run(withdrawn_meanwhile)
    await world.run(spent_meanwhile)  # the replay is named before the withdrawal
