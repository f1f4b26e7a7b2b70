"""Migration 0010: `end_users.upstream_id` becomes a string on SQLite and PostgreSQL.

Named for clause 3.3 a: the column says which upstream account an end user (the one who
consents) is, so the gateway asks for that account's data and no other's; the consents that
refer to the end users must survive the change. A database at 0009 holding integer ids, with
consents referring to its end users, is upgraded: the ids become their decimal strings, the
consents still point at their end users; a downgrade converts back while every id is an
integer, and refuses (changing nothing) once a GUID is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from termgate.db.engine import create_engine
from termgate.db.migrate import alembic_config, upgrade_async
from tests.support.migrated import database_at

GUID = "5b6a77c7-6abe-4f31-93dc-2692169e3ea4"
OLD_IDS = {"u-seven": 7, "u-big": 2_000_000_001}
NOW = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def at_0009(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A new database migrated to 0009 only."""
    async with database_at(request.param, tmp_path, "0009") as url:
        yield url


async def _downgrade(url: str, revision: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(url), revision)


async def _seed_integer_ids(engine: AsyncEngine) -> str:
    """End users as 0009 stored them (integer ids) and a consent referring to one. Written in
    SQL with the columns of 0009: the models describe the newest schema, which later migrations
    change."""
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO developers (id, email, name, status, created_at, session_epoch) "
                "VALUES ('d-old', 'old@example.nl', 'Old Developer', 'active', :now, 0)"
            ),
            {"now": NOW},
        )
        await connection.execute(
            text(
                "INSERT INTO applications (id, developer_id, name, description, use_case, "
                "requested_scopes, redirect_uris, environment, status, created_at) VALUES "
                "('a-old', 'd-old', 'Old App', '', '', 'debtor.info.read', '', 'sandbox', "
                "'active', :now)"
            ),
            {"now": NOW},
        )
        for user_id, upstream_id in OLD_IDS.items():
            await connection.execute(
                text(
                    "INSERT INTO end_users (id, upstream_id, username, email, display_name, "
                    "password_hash, environment, debtor_ids, status, created_at, session_epoch) "
                    "VALUES (:id, :upstream, :id, :email, 'Old User', '-', 'sandbox', '1001', "
                    "'active', :now, 0)"
                ),
                {"id": user_id, "upstream": upstream_id, "email": f"{user_id}@example.nl",
                 "now": NOW},
            )  # fmt: skip
        await connection.execute(
            text(
                "INSERT INTO consents (id, end_user_id, application_id, scopes, debtor_ids, "
                "consent_text_version, granted_at, ip, user_agent) VALUES ('c-old', 'u-seven', "
                "'a-old', 'debtor.info.read', '1001', '1', :now, '127.0.0.1', 'test')"
            ),
            {"now": NOW},
        )
    return "c-old"


async def _consent_owner(engine: AsyncEngine, consent_id: str) -> str:
    async with engine.connect() as connection:
        owner = await connection.scalar(
            text("SELECT end_user_id FROM consents WHERE id = :id"), {"id": consent_id}
        )
        return str(owner)


async def _user_of(engine: AsyncEngine, upstream_id: str) -> str | None:
    async with engine.connect() as connection:
        found = await connection.scalar(
            text("SELECT id FROM end_users WHERE upstream_id = :upstream"),
            {"upstream": upstream_id},
        )
        return None if found is None else str(found)


async def _add_guid_user(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO end_users (id, upstream_id, username, email, display_name, "
                "password_hash, environment, debtor_ids, status, created_at, session_epoch) "
                "VALUES ('u-guid', :guid, 'guid', 'guid@example.nl', 'Guid User', '-', "
                "'sandbox', '1001', 'active', :now, 0)"
            ),
            {"guid": GUID, "now": NOW},
        )


async def _stored_ids(engine: AsyncEngine) -> dict[str, object]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, upstream_id FROM end_users"))
        return {row[0]: row[1] for row in rows}


async def _integrity(engine: AsyncEngine) -> list[object]:
    """Rows whose foreign keys point nowhere (SQLite's own check; PostgreSQL enforces them)."""
    if engine.dialect.name != "sqlite":
        return []
    async with engine.connect() as connection:
        return list(await connection.execute(text("PRAGMA foreign_key_check")))


async def test_clause_3_3_a_upgrade_turns_integer_user_ids_into_strings(at_0009: str) -> None:
    engine = create_engine(at_0009)
    try:
        consent_id = await _seed_integer_ids(engine)
        await engine.dispose()  # the migration opens its own connection
        await upgrade_async(at_0009, "0010")

        assert await _stored_ids(engine) == {"u-seven": "7", "u-big": "2000000001"}
        assert await _integrity(engine) == []
        assert await _consent_owner(engine, consent_id) == "u-seven"
        assert await _user_of(engine, "7") == "u-seven"
        await _add_guid_user(engine)  # now a GUID fits
        assert (await _stored_ids(engine))["u-guid"] == GUID
    finally:
        await engine.dispose()


async def test_clause_3_3_a_downgrade_keeps_integers_and_refuses_guids(at_0009: str) -> None:
    engine = create_engine(at_0009)
    try:
        await _seed_integer_ids(engine)
        await engine.dispose()
        await upgrade_async(at_0009, "0010")
        await _add_guid_user(engine)
        await engine.dispose()

        with pytest.raises(RuntimeError, match=r"1 end user.* not an integer"):
            await _downgrade(at_0009, "0009")
        assert (await _stored_ids(engine))["u-guid"] == GUID  # nothing changed

        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM end_users WHERE id = 'u-guid'"))
        await engine.dispose()
        await _downgrade(at_0009, "0009")
        assert await _stored_ids(engine) == OLD_IDS
        assert await _integrity(engine) == []
    finally:
        await engine.dispose()
