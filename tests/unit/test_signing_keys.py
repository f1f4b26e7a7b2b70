"""Token-signing keys (clause 3.3 a: only tokens this server signed open an end user's data):
sealed at rest, published before they sign, kept for verification until their tokens expired,
re-sealed after the secret key changed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.key_seal import KeySeal, SealError
from termgate.db.models import utcnow
from termgate.db.oauth import SigningKey
from termgate.db.programme import AuditEntry
from termgate.identity import signing_keys as keys
from termgate.identity.tokens import ACCESS_TOKEN_LIFETIME

Sessions = async_sessionmaker[AsyncSession]
OLD = KeySeal.from_secret("old-secret-key-" + "o" * 32)
NEW = KeySeal.from_secret("new-secret-key-" + "n" * 32)


async def rows(db: Sessions) -> list[SigningKey]:
    async with db() as session:
        return list(await session.scalars(select(SigningKey).order_by(SigningKey.created_at)))


async def test_clause_3_3_a_no_private_key_material_is_stored_in_the_clear(db: Sessions) -> None:
    async with db.begin() as session:
        key = await keys.signing_key(session, OLD)
    private = key.as_dict(private=True)
    (row,) = await rows(db)
    stored = " ".join(str(value) for value in vars(row).values())
    assert private["d"] not in stored
    assert '"d"' not in row.public_jwk
    assert "PRIVATE KEY" not in stored
    assert json.loads(OLD.open(row.kid, row.sealed_jwk)) == private
    assert row.seal_id == OLD.seal_id


async def test_clause_3_3_a_jwks_is_built_without_the_secret_key(db: Sessions) -> None:
    async with db.begin() as session:
        key = await keys.signing_key(session, OLD)
        published = await keys.public_keys(session)
    (entry,) = published["keys"]
    assert entry["kid"] == key.kid
    assert "d" not in entry
    token = jwt.encode({"alg": "ES256", "kid": key.kid}, {"sub": "x"}, key, algorithms=["ES256"])
    assert jwt.decode(token, KeySet.import_key_set(published), algorithms=["ES256"]).claims


async def test_rotation_publishes_the_new_key_before_it_signs(db: Sessions) -> None:
    now = utcnow()
    async with db.begin() as session:
        old = await keys.signing_key(session, OLD, now)
        new = await keys.rotate(session, OLD, "operator", now, publish_for=timedelta(minutes=10))
        published = {entry["kid"] for entry in (await keys.public_keys(session))["keys"]}
        assert published == {old.kid, new.kid}  # published at once
        assert (await keys.signing_key(session, OLD, now + timedelta(minutes=9))).kid == old.kid
        later = now + timedelta(minutes=10)
        assert (await keys.signing_key(session, OLD, later)).kid == new.kid
        states = {row.kid: keys.state(row, later) for row in await keys.listed(session)}
        assert states == {old.kid: "retired", new.kid: "active"}
        assert len((await keys.public_keys(session))["keys"]) == 2  # old tokens still verify
        actions = list(await session.scalars(select(AuditEntry.action)))
        assert actions == ["signing_key.rotated"]


async def test_prune_drops_only_keys_retired_longer_than_a_token_lives(db: Sessions) -> None:
    now = utcnow()
    async with db.begin() as session:
        old = await keys.signing_key(session, OLD, now)
        new = await keys.rotate(session, OLD, "operator", now, publish_for=timedelta(0))
        assert await keys.prune(session, ACCESS_TOKEN_LIFETIME, "operator", now) == []
        after = now + ACCESS_TOKEN_LIFETIME + timedelta(seconds=1)
        assert await keys.prune(session, ACCESS_TOKEN_LIFETIME, "operator", after) == [old.kid]
    assert [row.kid for row in await rows(db)] == [new.kid]


async def test_rewrap_reseals_every_key_under_the_new_secret_key_once(db: Sessions) -> None:
    async with db.begin() as session:
        key = await keys.signing_key(session, OLD)
        await keys.rotate(session, OLD, "operator")
    async with db.begin() as session:
        done = await keys.rewrap(session, OLD, NEW, "operator")
    assert len(done.resealed) == 2
    assert done.already == []
    for row in await rows(db):
        assert row.seal_id == NEW.seal_id
        with pytest.raises(SealError):
            OLD.open(row.kid, row.sealed_jwk)
    async with db.begin() as session:
        assert (await keys.signing_key(session, NEW)).kid == key.kid
        again = await keys.rewrap(session, OLD, NEW, "operator")
    assert again.resealed == []
    assert len(again.already) == 2


async def test_rewrap_with_the_wrong_old_secret_key_changes_nothing(db: Sessions) -> None:
    async with db.begin() as session:
        await keys.signing_key(session, OLD)
    before = [(row.sealed_jwk, row.seal_id) for row in await rows(db)]
    wrong = KeySeal.from_secret("wrong-secret-key-" + "w" * 32)
    with pytest.raises(SealError, match="sealed under neither secret key"):
        async with db.begin() as session:
            await keys.rewrap(session, wrong, NEW, "operator")
    assert [(row.sealed_jwk, row.seal_id) for row in await rows(db)] == before


async def test_signing_with_another_secret_key_is_refused(db: Sessions) -> None:
    async with db.begin() as session:
        await keys.signing_key(session, OLD)
    async with db.begin() as session:
        with pytest.raises(SealError):
            await keys.signing_key(session, NEW)


async def test_the_first_key_made_by_a_rotation_signs_at_once(db: Sessions) -> None:
    now = utcnow()
    async with db.begin() as session:
        first = await keys.rotate(session, OLD, "operator", now)
        assert first.activates_at == now
        assert (await keys.signing_key(session, OLD, now)).kid == first.kid
    assert len(await rows(db)) == 1
