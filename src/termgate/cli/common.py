"""What every command shares: settings from the environment, a database session, clear failures.

A bad setting, a refused registry change or an unmigrated database ends the command with one
readable line on stderr and a non-zero exit status, never a traceback and never a secret value.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:  # imported where used: a command imports what it needs (`termgate.cli.lazy`)
    from rich.table import Table
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from termgate.settings import Settings

T = TypeVar("T")

# Piped or redirected, output is for programs and people's scripts: Rich would cut tables and
# wrap lines (an id, a key shown once) at 80 columns, its width without a terminal, so there
# everything is printed at its natural width instead.
UNWRAPPED = 1 << 16


def _stdout() -> Console:
    on_terminal = Console(highlight=False)
    return on_terminal if on_terminal.is_terminal else Console(highlight=False, width=UNWRAPPED)


console = _stdout()
JsonOutput = Annotated[
    bool, typer.Option("--json", help="print JSON with stable keys instead of a table")
]
# An error is one line for scripts to read: never wrapped at the terminal's width (80 columns when
# there is none), and the message's own brackets are text, not markup.
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, status: int = 1) -> NoReturn:
    from termgate.secret_settings import redact

    errors.print(f"[bold red]error:[/] {escape(redact(message, _configured_secrets()))}")
    raise typer.Exit(status)


def _configured_secrets() -> list[str]:
    """The secret values of the configuration, so that no message (a driver's error that quotes
    the database URL, say) prints one; a configuration that does not load has none to hide,
    since its own error shows no secret (`describe_error`)."""
    from termgate.secret_settings import secret_values
    from termgate.settings import SettingsError, get_settings

    try:
        settings = get_settings()
    except SettingsError:
        return []
    return secret_values(dict(settings))


def print_table(table: Table) -> None:
    """On a terminal the table fits its width; otherwise no cell is cut or wrapped."""
    console.print(table)


def cli_actor() -> str:
    """Who the audit trail names for a command: `cli:` and the operating-system user."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a bare container) and no LOGNAME
        user = f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
    # LOGNAME and USER come from the environment: keep the trail to one printable line.
    shown = "".join(c for c in user if c.isprintable())[:64] or "unknown"
    return f"cli:{shown}"


def _plain(value: object) -> object:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not shown in JSON")


def print_json(listing: Sequence[Mapping[str, object]] | Mapping[str, object]) -> None:
    """A listing for programs: JSON objects with the keys as given, times in ISO 8601."""
    typer.echo(json.dumps(listing, indent=2, ensure_ascii=False, default=_plain))


def apply_options(**options: object) -> None:
    """Command-line options become `TERMGATE_*` variables, so server workers see them too."""
    from termgate.settings import get_settings

    for name, value in options.items():
        if value is not None:
            os.environ[f"TERMGATE_{name.upper()}"] = str(value)
    get_settings.cache_clear()


def settings_or_exit() -> Settings:
    from termgate.settings import SettingsError, get_settings

    try:
        settings = get_settings()
    except SettingsError as error:
        fail(f"bad configuration\n{error}", status=2)
    _configure_logs(settings)
    return settings


def _configure_logs(settings: Settings) -> None:
    """A command's outcome is its output and the audit trail keeps its decisions: its log (on
    stderr, in the configured format) has warnings and errors only. `serve` logs at
    TERMGATE_LOG_LEVEL (`run_server` configures it again)."""
    from termgate.core import logs

    level = "error" if settings.log_level == "error" else "warning"
    logs.configure(level, settings.log_format)


def database_failure(error: DBAPIError) -> str:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    text = str(error.orig)
    if isinstance(error, OperationalError | ProgrammingError) and (
        "no such table" in text or "does not exist" in text
    ):
        return "the database has no termgate schema yet; run `termgate db upgrade` first"
    return f"database error: {text.splitlines()[0] if text else type(error.orig).__name__}"


def in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction: committed if it returns, rolled back if it refuses."""
    from termgate.notify.outbox import transaction

    async def run(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> T:
        async with transaction(sessions, settings) as session:
            return await work(session)

    return with_database(run)


def with_database(
    work: Callable[[async_sessionmaker[AsyncSession], Settings], Awaitable[T]],
) -> T:
    """Run `work` with a session factory on the configured database, ending in one line on
    refusals and database faults."""
    from sqlalchemy.exc import DBAPIError

    from termgate.core.errors import RegistryError
    from termgate.db.engine import create_engine, session_factory

    settings = settings_or_exit()

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            return await work(session_factory(engine), settings)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except RegistryError as error:
        fail(str(error))
    except DBAPIError as error:
        fail(database_failure(error))
    except OSError as error:
        fail(f"cannot reach the database: {error}")
