"""The audit chain (clause 4.2): each entry links to its predecessor; removing, reordering or
altering one breaks the chain at that entry."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.audit import GENESIS, record, trail, verify_chain
from termgate.db.programme import AuditEntry

Sessions = async_sessionmaker[AsyncSession]


async def three(db: Sessions) -> list[AuditEntry]:
    async with db.begin() as session:
        return [
            await record(session, "ops@x", "suspended", "key", "k1", "abuse"),
            await record(session, "ops@x", "reinstated", "key", "k1", "cured"),
            await record(session, "admin", "revoked", "application", "a1"),
        ]


async def test_clause_4_2_entries_link_to_their_predecessor(db: Sessions) -> None:
    first, second, third = await three(db)
    assert first.previous_hash == GENESIS == "0" * 64
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3
    assert third.reason == ""
    assert (first.actor, first.action, first.entity, first.entity_id, first.reason) == (
        "ops@x",
        "suspended",
        "key",
        "k1",
        "abuse",
    )
    assert first.at.tzinfo is not None
    assert abs((datetime.now(UTC) - first.at).total_seconds()) < 60
    async with db() as session:
        assert await verify_chain(session) is None


async def test_clause_4_2_hash_covers_every_field_and_the_predecessor(db: Sessions) -> None:
    first, *_ = await three(db)
    content = "\x1f".join(
        (GENESIS, first.at.isoformat(), "ops@x", "suspended", "key", "k1", "abuse")
    )
    assert first.hash == hashlib.sha256(content.encode()).hexdigest()


async def test_clause_4_2_empty_trail_verifies(db: Sessions) -> None:
    async with db() as session:
        assert await verify_chain(session) is None


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "someone else"),
        ("action", "created"),
        ("entity", "developer"),
        ("entity_id", "k2"),
        ("reason", "no reason"),
        ("at", datetime(2020, 1, 1, tzinfo=UTC)),
    ],
)
async def test_clause_4_2_altered_entry_breaks_the_chain(
    db: Sessions, column: str, value: object
) -> None:
    _, second, _ = await three(db)
    async with db.begin() as session:
        await session.execute(
            update(AuditEntry).where(AuditEntry.id == second.id).values({column: value})
        )
    async with db() as session:
        assert await verify_chain(session) == second.id


async def test_clause_4_2_removed_entry_breaks_the_chain_at_its_successor(db: Sessions) -> None:
    _, second, third = await three(db)
    async with db.begin() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.id == second.id))
    async with db() as session:
        assert await verify_chain(session) == third.id


async def test_clause_4_2_removed_first_entry_breaks_the_chain(db: Sessions) -> None:
    first, second, _ = await three(db)
    async with db.begin() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.id == first.id))
    async with db() as session:
        assert await verify_chain(session) == second.id


async def test_clause_4_2_reordered_entries_break_the_chain(db: Sessions) -> None:
    """The second entry moved to the end, hashes and all: the third no longer follows."""
    _, second, third = await three(db)
    async with db.begin() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.id == second.id))
        columns = ("at", "actor", "action", "entity", "entity_id", "reason", "previous_hash")
        moved = AuditEntry(**{name: getattr(second, name) for name in columns}, hash=second.hash)
        session.add(moved)
    async with db() as session:
        assert await verify_chain(session) == third.id


async def test_clause_4_2_rehashed_entry_without_its_successor_is_found(db: Sessions) -> None:
    """An altered entry given a fresh hash still breaks the link to the entry after it."""
    first, second, third = await three(db)
    async with db.begin() as session:
        row = await session.get_one(AuditEntry, second.id)
        row.reason = "forged"
        content = "\x1f".join(
            (
                first.hash,
                row.at.isoformat(),
                row.actor,
                row.action,
                row.entity,
                row.entity_id,
                "forged",
            )
        )
        row.hash = hashlib.sha256(content.encode()).hexdigest()
    async with db() as session:
        assert await verify_chain(session) == third.id


async def test_clause_4_2_trail_newest_first_by_entity_and_limited(db: Sessions) -> None:
    first, second, third = await three(db)
    async with db() as session:
        assert [e.id for e in await trail(session)] == [third.id, second.id, first.id]
        assert [e.id for e in await trail(session, "k1")] == [second.id, first.id]
        assert [e.id for e in await trail(session, limit=1)] == [third.id]
        assert [e.id for e in await trail(session, "a1")] == [third.id]
    async with db.begin() as session:
        for n in range(198):
            await record(session, "bulk", "noted", "key", f"b{n}")
    async with db() as session:
        assert len(await trail(session)) == 200
