"""What the catalogue commands' tests share: a fresh migrated database and its row counts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.engine import create_engine, session_factory
from termgate.db.models import AccessChange, Developer, Plan, Product
from termgate.db.programme import Administrator, AuditEntry
from termgate.db.traffic import MaintenanceRule, OperationLifecycle


@dataclass(frozen=True)
class Counts:
    audit: int
    feed: int
    products: int
    plans: int
    administrators: int
    developers: int
    rules: int
    lifecycles: int


async def _count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def counts(database_url: str) -> Counts:
    async def read() -> Counts:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                models = (
                    AuditEntry, AccessChange, Product, Plan, Administrator, Developer,
                    MaintenanceRule, OperationLifecycle,
                )  # fmt: skip
                return Counts(*[await _count(session, model) for model in models])
        finally:
            await engine.dispose()

    return asyncio.run(read())


def administrator_hashes(database_url: str) -> list[str | None]:
    async def read() -> list[str | None]:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                return list(await session.scalars(select(Administrator.password_hash)))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def audit_actors(database_url: str) -> list[tuple[str, str]]:
    """Each audit entry's actor and action, oldest first."""

    async def read() -> list[tuple[str, str]]:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                rows = await session.execute(
                    select(AuditEntry.actor, AuditEntry.action).order_by(AuditEntry.id)
                )
                return [(actor, action) for actor, action in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())
