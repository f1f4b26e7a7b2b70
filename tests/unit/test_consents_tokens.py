"""Consents, token families and signing keys (clause 3.3 a) through the identity functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.passwords import hash_password
from termgate.db.key_seal import KeySeal
from termgate.db.oauth import EndUser, SigningKey
from termgate.db.programme import AuditEntry
from termgate.identity.consents import (
    all_consents,
    end_user_actor,
    grant_consent,
    live_consents,
    revoke_family,
    withdraw,
)
from termgate.identity.tokens import (
    VerifiedTokens,
    open_family,
    public_keys,
    signing_key,
    token_for_family,
)
from tests.unit.registry_support import changes, parties

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2027, 3, 15, 12, tzinfo=UTC)
ISSUER = "https://id.example"

SEAL = KeySeal.from_secret("unit-tests-secret-key-" + "s" * 32)


async def end_user(session: AsyncSession, upstream_id: str = "11") -> EndUser:
    user = EndUser(
        upstream_id=upstream_id,
        username=f"user{upstream_id}",
        email=f"user{upstream_id}@example.nl",
        display_name="Eva",
        password_hash=hash_password("a long enough password"),
        debtor_ids="7,8,9,10",
    )
    session.add(user)
    await session.flush()
    return user


async def audits(session: AsyncSession) -> list[tuple[str, str, str, str, str]]:
    return [
        (e.actor, e.action, e.entity, e.entity_id, e.reason)
        for e in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ]


async def test_clause_3_3_a_one_signing_key_is_made_once_and_published(db: Sessions) -> None:
    async with db.begin() as session:
        assert await public_keys(session) == {"keys": []}
        key = await signing_key(session, SEAL)
        assert await signing_key(session, SEAL) == key
        rows = (await session.scalars(select(SigningKey))).all()
        assert [(row.kid, row.algorithm) for row in rows] == [(key.kid, "ES256")]
        assert await changes(session) == [("signing_key", key.kid)]
        published = await public_keys(session)
        (entry,) = published["keys"]
        assert (entry["alg"], entry["use"], entry["kid"], entry["crv"]) == (
            "ES256",
            "sig",
            key.kid,
            "P-256",
        )
        assert "d" not in entry
        KeySet.import_key_set(published)


async def test_clause_3_3_a_retired_key_is_not_used_for_new_tokens(db: Sessions) -> None:
    async with db.begin() as session:
        old = await signing_key(session, SEAL)
        row = await session.get_one(SigningKey, old.kid)
        row.retired_at = datetime.now(UTC) - timedelta(seconds=1)  # a key retires at a moment
        new = await signing_key(session, SEAL)
        assert new.kid != old.kid
        assert len((await public_keys(session))["keys"]) == 2


async def test_clause_3_3_a_token_of_a_family_carries_its_consent(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        user = await end_user(session)
        consent = await grant_consent(
            session,
            end_user=user,
            application=made.application,
            scopes="employee.info.read",
            debtors=["8", "7", "8"],
            ip="192.0.2.1",
            user_agent="ua",
            now=NOW,
        )
        assert consent.debtor_ids == "7,8"
        family = await open_family(session, consent)
        assert (family.consent_id, family.application_id, family.end_user_id, family.scope) == (
            consent.id,
            made.application.id,
            user.id,
            "employee.info.read",
        )
        signed = await token_for_family(session, family, ISSUER, NOW, SEAL)
        claims = VerifiedTokens(await public_keys(session), ISSUER).verify(signed, NOW.timestamp())
        assert (claims.client_id, claims.end_user_id, claims.upstream_user_id) == (
            made.application.id,
            user.id,
            "11",
        )
        assert (claims.family_id, claims.consent_id, claims.debtors) == (
            family.id,
            consent.id,
            frozenset({"7", "8"}),
        )
        assert claims.scopes == {"employee.info.read"}
        assert claims.expires_at == NOW.timestamp() + 3600
        assert (
            jwt.decode(signed, KeySet.import_key_set(await public_keys(session))).header["kid"]
            == (await signing_key(session, SEAL)).kid
        )


async def test_clause_3_3_a_withdrawal_revokes_every_family_once(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        user = await end_user(session)
        actor = end_user_actor(user.id)
        assert actor == f"end-user:{user.id}"
        first = await grant_consent(
            session,
            end_user=user,
            application=made.application,
            scopes="a.read",
            debtors=["7"],
            ip="192.0.2.1" * 10,
            user_agent="u" * 600,
            now=NOW,
        )
        assert (len(first.ip), len(first.user_agent)) == (64, 500)
        assert (await audits(session))[-1] == (
            actor,
            "granted-consent",
            "consent",
            first.id,
            f"application {made.application.id}; scopes a.read; debtors 7",
        )
        families = [await open_family(session, first) for _ in range(2)]
        later = NOW + timedelta(hours=1)
        await withdraw(session, first, "revoked by the end user", actor, later)
        assert (first.withdrawn_at, first.withdrawal_reason) == (later, "revoked by the end user")
        for family in families:
            assert (family.revoked_at, family.revoke_reason) == (
                later,
                "consent withdrawn: revoked by the end user",
            )
        feed = await changes(session)
        assert [("token_family", f.id) for f in families] + [("consent", first.id)] == feed[-3:]
        trail = await audits(session)
        assert trail[-1] == (
            actor,
            "withdrew-consent",
            "consent",
            first.id,
            "revoked by the end user",
        )
        assert trail[-2][1:4] == ("revoked-token-family", "token_family", families[1].id)
        assert await live_consents(session, user.id) == []
        second = await grant_consent(
            session,
            end_user=user,
            application=made.application,
            scopes="b.read",
            debtors=["7"],
            ip="ip",
            user_agent="ua",
            now=later,
        )
        assert [c.id for c in await live_consents(session, user.id)] == [second.id]
        assert [c.id for c in await live_consents(session, user.id, made.application.id)] == [
            second.id
        ]
        assert await live_consents(session, user.id, "another-app") == []
        assert [c.id for c in await all_consents(session, user.id)] == [first.id, second.id]
        before = len(await audits(session))
        await withdraw(session, first, "again", actor, later + timedelta(1))
        await revoke_family(session, families[0], "again", actor, later + timedelta(1))
        assert first.withdrawn_at == later
        assert families[0].revoked_at == later
        assert len(await audits(session)) == before
