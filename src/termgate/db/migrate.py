"""`termgate db upgrade`: Alembic configured in code, so an installed package can migrate itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str, secret_key: str | None = None) -> Config:
    """`secret_key` seals the signing keys in migrations that need it (0011); without it they
    read the settings' secret key."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if secret_key:
        config.attributes["secret_key"] = secret_key
    return config


def upgrade(database_url: str, revision: str = "head", secret_key: str | None = None) -> None:
    """Bring the schema to `revision`. Safe to call from inside a running event loop's thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(alembic_config(database_url, secret_key), revision)
        return
    raise RuntimeError("call upgrade() outside the event loop, or use upgrade_async()")


def downgrade(database_url: str, revision: str, secret_key: str | None = None) -> None:
    command.downgrade(alembic_config(database_url, secret_key), revision)


async def upgrade_async(
    database_url: str, revision: str = "head", secret_key: str | None = None
) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(database_url, secret_key), revision)


def make_revision(database_url: str, message: str) -> None:
    """Autogenerate a migration from the models (developers' tool, `make migration`)."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
