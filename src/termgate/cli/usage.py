"""`termgate usage prune`: delete usage events older than `TERMGATE_USAGE_RETENTION_DAYS`, and
spent credentials, in bounded batches (see `termgate.governance.retention`)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.cli.common import console, settings_or_exit, with_database
from termgate.governance.retention import BATCH_SIZE, Pruned, prune
from termgate.settings import Settings

usage = typer.Typer(help="Usage events and their retention.", no_args_is_help=True)


@usage.callback()
def usage_group() -> None:
    """Usage events and their retention."""  # a group, though it has one command yet


def _run(dry_run: bool, batch_size: int) -> list[Pruned]:
    async def run(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> list[Pruned]:
        return await prune(
            sessions,
            settings.now(),
            settings.usage_retention_days,
            dry_run=dry_run,
            batch_size=batch_size,
        )

    return with_database(run)


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
