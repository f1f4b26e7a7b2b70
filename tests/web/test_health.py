"""Liveness and readiness (clause 7): a node whose database cannot take a write says so."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.web.conftest import Site


async def test_clause_7_readiness_needs_a_writable_database_liveness_does_not(
    site: Site, engine: AsyncEngine
) -> None:
    ready = await site.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["database"] == "writable"
    async with engine.connect() as holder:
        # Another connection holds the write lock: writes wait, as on a locked database.
        if engine.dialect.name == "sqlite":
            await holder.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            await holder.begin()
            await holder.execute(text("LOCK TABLE alembic_version IN EXCLUSIVE MODE"))
        blocked = await site.client.get("/readyz")
        alive = await site.client.get("/healthz")
        await holder.rollback()
    assert blocked.status_code == 503, blocked.text
    problem = blocked.json()
    assert problem["code"] == 50303
    assert problem["clause"] == "7"
    assert blocked.headers["retry-after"] == "5"
    assert alive.status_code == 200
    await asyncio.sleep(0)
    again = await site.client.get("/readyz")
    assert again.status_code == 200, again.text
