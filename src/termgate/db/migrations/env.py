"""Alembic environment: runs migrations on the async engine named by `sqlalchemy.url`."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from termgate.db import (  # noqa: F401 (they declare tables on Base)
    due_process,
    due_process_records,
    monitoring,
    oauth,
    programme,
    traffic,
    usage_daily,
    usage_hourly,
    usage_parties,
    usage_sketches,
)
from termgate.db.engine import create_engine
from termgate.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_engine(str(config.get_main_option("sqlalchemy.url")))
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    existing = config.attributes.get("connection")
    if existing is not None:
        do_run_migrations(existing)
    else:
        asyncio.run(run_async_migrations())
