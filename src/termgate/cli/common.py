"""What every command shares: settings from the environment, a database session, clear failures.

A bad setting, a refused registry change or an unmigrated database ends the command with one
readable line on stderr and a non-zero exit status, never a traceback and never a secret value.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:  # imported where used: a command imports what it needs (`termgate.cli.lazy`)
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.ext.asyncio import AsyncSession

    from termgate.settings import Settings

T = TypeVar("T")

console = Console(highlight=False)
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
        return get_settings()
    except SettingsError as error:
        fail(f"bad configuration\n{error}", status=2)


def _database_failure(error: DBAPIError) -> str:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    text = str(error.orig)
    if isinstance(error, OperationalError | ProgrammingError) and (
        "no such table" in text or "does not exist" in text
    ):
        return "the database has no termgate schema yet; run `termgate db upgrade` first"
    return f"database error: {text.splitlines()[0] if text else type(error.orig).__name__}"


def in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction: committed if it returns, rolled back if it refuses."""
    from sqlalchemy.exc import DBAPIError

    from termgate.core.errors import RegistryError
    from termgate.db.engine import create_engine, session_factory
    from termgate.notify.mail import transaction

    settings = settings_or_exit()

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with transaction(session_factory(engine), settings) as session:
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except RegistryError as error:
        fail(str(error))
    except DBAPIError as error:
        fail(_database_failure(error))
    except OSError as error:
        fail(f"cannot reach the database: {error}")
