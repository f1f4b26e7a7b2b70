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
from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from termgate.db.engine import create_engine, session_factory
from termgate.db.migrate import alembic_config, upgrade_async
from termgate.db.models import Application
from termgate.db.oauth import Consent, EndUser
from termgate.identity.consents import grant_consent
from tests.support.factories import issue_test_key
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


async def _seed_integer_ids(sessions: async_sessionmaker[AsyncSession]) -> str:
    """End users as 0009 stored them (integer ids) and a consent referring to one."""
    key = await issue_test_key(sessions)
    async with sessions.begin() as session:
        for user_id, upstream_id in OLD_IDS.items():
            await session.execute(
                text(
                    "INSERT INTO end_users (id, upstream_id, username, email, display_name, "
                    "password_hash, environment, debtor_ids, status, created_at, session_epoch) "
                    "VALUES (:id, :upstream, :id, :email, 'Old User', '-', 'sandbox', '1001', "
                    "'active', :now, 0)"
                ),
                {"id": user_id, "upstream": upstream_id, "email": f"{user_id}@example.nl",
                 "now": NOW},
            )  # fmt: skip
        user = await session.get_one(EndUser, "u-seven")
        application = await session.get_one(Application, key.application_id)
        consent = await grant_consent(
            session, end_user=user, application=application,
            scopes="debtor.info.read", debtors=["1001"], ip="127.0.0.1", user_agent="test", now=NOW,
        )  # fmt: skip
        return consent.id


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
        consent_id = await _seed_integer_ids(session_factory(engine))
        await engine.dispose()  # the migration opens its own connection
        await upgrade_async(at_0009, "0010")

        assert await _stored_ids(engine) == {"u-seven": "7", "u-big": "2000000001"}
        assert await _integrity(engine) == []
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            consent = await session.get_one(Consent, consent_id)
            assert consent.end_user_id == "u-seven"
            seven = await session.scalar(select_user("7"))
            assert seven is not None
            assert seven.id == "u-seven"
            session.add(new_user(GUID))  # now a GUID fits
        assert (await _stored_ids(engine))["u-guid"] == GUID
    finally:
        await engine.dispose()


async def test_clause_3_3_a_downgrade_keeps_integers_and_refuses_guids(at_0009: str) -> None:
    engine = create_engine(at_0009)
    try:
        await _seed_integer_ids(session_factory(engine))
        await engine.dispose()
        await upgrade_async(at_0009, "0010")
        async with session_factory(engine).begin() as session:
            session.add(new_user(GUID))
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


def select_user(upstream_id: str) -> Select[EndUser]:
    return select(EndUser).where(EndUser.upstream_id == upstream_id)


def new_user(upstream_id: str) -> EndUser:
    return EndUser(
        id="u-guid", upstream_id=upstream_id, username="guid", email="guid@example.nl",
        display_name="Guid User", password_hash="-", debtor_ids="1001",
    )  # fmt: skip
