"""`termgate db upgrade|current`: the schema, migrated or compared with this version's."""

from __future__ import annotations

import asyncio
import re

import typer

from termgate.cli.common import console, fail, settings_or_exit
from termgate.secret_settings import mask_url

database = typer.Typer(help="Database schema.", no_args_is_help=True)


# Alembic's words for a revision its scripts do not have: a newer termgate's.
UNKNOWN_REVISION = re.compile(r"Can't locate revision identified by '([^']{1,64})'")


def migrate() -> str:
    """Migrate the configured database; returns its URL as it may be shown (password hidden)."""
    from termgate.db.migrate import upgrade

    settings = settings_or_exit()
    shown = mask_url(settings.database_url)
    try:
        upgrade(settings.database_url, secret_key=settings.session_secret())
    except Exception as error:  # Alembic wraps driver errors in many types; say it plainly
        if newer := UNKNOWN_REVISION.search(str(error)):
            fail(
                f"cannot migrate {shown}: it is at schema revision {newer.group(1)}, which this "
                "termgate does not know: it was migrated by a newer termgate; run that version "
                "(migrations are not reversed)"
            )
        fail(f"cannot migrate {shown}: {error}")
    return shown


@database.command("upgrade")
def db_upgrade() -> None:
    """Create or update the schema (SQLite file or PostgreSQL) to the newest version."""
    shown = migrate()
    console.print(f"database schema is up to date ({shown})")


@database.command("current")
def db_current() -> None:
    """Print the database's schema revision; exit status 0 only when it is the one this
    termgate expects (run before starting new nodes after an upgrade)."""
    from termgate.preflight import StartupError, check_database, check_sqlite_file

    settings = settings_or_exit()
    shown = mask_url(settings.database_url)
    try:
        check_sqlite_file(settings.database_url)
        revision = asyncio.run(check_database(settings.database_url))
    except StartupError as error:
        fail(str(error))
    console.print(f"{shown}: schema revision {revision}, the one this termgate expects")
