"""`termgate usage prune`: delete usage events older than `TERMGATE_USAGE_RETENTION_DAYS`, and
spent credentials, in bounded batches (see `termgate.governance.retention`)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from sqlalchemy.exc import DBAPIError

from termgate.cli.common import console, database_failure, fail, settings_or_exit
from termgate.db.engine import create_engine, session_factory
from termgate.governance.retention import BATCH_SIZE, Pruned, prune

usage = typer.Typer(help="Usage events and their retention.", no_args_is_help=True)


@usage.callback()
def usage_group() -> None:
    """Usage events and their retention."""  # a group, though it has one command yet


def _run(dry_run: bool, batch_size: int) -> list[Pruned]:
    settings = settings_or_exit()

    async def run() -> list[Pruned]:
        engine = create_engine(settings.database_url)
        try:
            return await prune(
                session_factory(engine),
                settings.now(),
                settings.usage_retention_days,
                dry_run=dry_run,
                batch_size=batch_size,
            )
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except DBAPIError as error:
        fail(database_failure(error))
    except OSError as error:
        fail(f"cannot reach the database: {error}")


@usage.command("prune")
def usage_prune(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="count what would be deleted; delete nothing")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="rows per delete (one short transaction each)")
    ] = BATCH_SIZE,
) -> None:
    """Delete usage events older than TERMGATE_USAGE_RETENTION_DAYS and spent credentials."""
    settings = settings_or_exit()
    if settings.usage_retention_days == 0:
        console.print("usage events: kept forever (TERMGATE_USAGE_RETENTION_DAYS is 0)")
    verb = "would be deleted" if dry_run else "deleted"
    for item in _run(dry_run, batch_size):
        console.print(
            f"{item.table}: {item.rows} {verb} (before {item.cutoff:%Y-%m-%d %H:%M} UTC, "
            f"{item.why})",
            soft_wrap=True,
        )
