"""Migration 0011: the token-signing keys a database holds in the clear are sealed, on SQLite
and PostgreSQL (clause 3.3 a: a copy of the database must not let anyone sign tokens that open
end users' data). The downgrade opens them with the same secret key, and refuses, changing
nothing, with another one."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from joserfc.jwk import ECKey
from sqlalchemy import text

from termgate.db.engine import create_engine
from termgate.db.key_seal import KeySeal
from termgate.db.migrate import downgrade, upgrade_async
from tests.support.migrated import database_at

SECRET = "migration-secret-key-" + "m" * 32
CREATED = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def at_0010(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_at(request.param, tmp_path, "0010") as url:
        yield url


async def _plaintext_key(url: str) -> dict[str, str]:
    """A signing key as 0010 stored it: the private JWK in the clear."""
    key = ECKey.generate_key("P-256", parameters={"kid": uuid.uuid4().hex, "use": "sig"})
    private = key.as_dict(private=True)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO signing_keys (kid, algorithm, private_jwk, created_at) "
                    "VALUES (:kid, 'ES256', :jwk, :at)"
                ),
                {"kid": private["kid"], "jwk": json.dumps(private), "at": CREATED},
            )
    finally:
        await engine.dispose()
    return {name: str(value) for name, value in private.items()}


async def _rows(url: str) -> list[dict[str, object]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text("SELECT * FROM signing_keys"))
            return [dict(row._mapping) for row in result]
    finally:
        await engine.dispose()


async def test_clause_3_3_a_upgrade_seals_plaintext_keys_and_downgrade_opens_them(
    at_0010: str,
) -> None:
    private = await _plaintext_key(at_0010)
    await upgrade_async(at_0010, "0011", secret_key=SECRET)

    (row,) = await _rows(at_0010)
    assert "private_jwk" not in row
    assert private["d"] not in " ".join(str(value) for value in row.values())
    seal = KeySeal.from_secret(SECRET)
    assert row["seal_id"] == seal.seal_id
    assert json.loads(seal.open(private["kid"], str(row["sealed_jwk"]))) == private
    public = json.loads(str(row["public_jwk"]))
    assert public == {name: private[name] for name in public}
    assert "d" not in public
    assert row["activates_at"] == row["created_at"]  # it has signed since it was made

    with pytest.raises(RuntimeError, match="cannot downgrade below 0011"):
        await asyncio.to_thread(downgrade, at_0010, "0010", "another-secret-key-" + "x" * 32)
    assert await _rows(at_0010) == [row]  # nothing changed

    await asyncio.to_thread(downgrade, at_0010, "0010", SECRET)
    (back,) = await _rows(at_0010)
    assert json.loads(str(back["private_jwk"])) == private


async def test_upgrade_of_a_database_without_keys_needs_no_secret_key(at_0010: str) -> None:
    await upgrade_async(at_0010, "0011")
    assert await _rows(at_0010) == []
