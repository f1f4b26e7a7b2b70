"""`termgate usage prune`: delete usage events older than `TERMGATE_USAGE_RETENTION_DAYS`, and
spent credentials, in bounded batches (see `termgate.governance.retention`). `termgate usage
sketch`: sketch the hours that are over for the usage pages over all applications, as `serve`'s
monitoring thread does (`termgate.governance.sketch_hours`), for nodes that run without it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.cli.common import console, settings_or_exit, with_database
from termgate.governance.retention import BATCH_SIZE, Pruned, prune
from termgate.governance.sketch_hours import HOURS_PER_PASS, LOOKBACK, sketch_hours_over
from termgate.settings import Settings

usage = typer.Typer(help="Usage events and their retention.", no_args_is_help=True)


@usage.callback()
def usage_group() -> None:
    """Usage events and their retention."""


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


@usage.command("sketch")
def usage_sketch(
    hours: Annotated[
        int,
        typer.Option(
            min=1, max=LOOKBACK.days * 24, help="sketch at most this many hours, newest first"
        ),
    ] = LOOKBACK.days * 24,
) -> None:
    """Sketch the hours that are over for the usage pages over all applications (serve does it
    in its monitoring thread unless TERMGATE_DETECT_INTERVAL_SECONDS is 0)."""
    settings_or_exit()

    async def run(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> list[datetime]:
        done: list[datetime] = []
        while len(done) < hours:
            step = min(HOURS_PER_PASS, hours - len(done))
            sketched = await sketch_hours_over(sessions, settings.now(), step)
            if not sketched:  # none left, or another node is sketching
                break
            done += sketched
        return done

    done = with_database(run)
    if not done:
        console.print("no hour to sketch: every hour over is sketched (or another node is at it)")
        return
    first, last = min(done), max(done)
    console.print(
        f"{len(done)} hour(s) sketched, {first:%Y-%m-%d %H}:00 to {last:%Y-%m-%d %H}:00 UTC"
    )
