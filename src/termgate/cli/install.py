"""`termgate init`: a production install — the schema, the first administrator, optionally the
catalogue — with no demo data and no default password anywhere.

Re-running it on a database that has an administrator says so and changes nothing; the
catalogue is then re-applied with `termgate apply`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.cli.catalogue import load_or_exit, print_changes
from termgate.cli.catalogue_file import Catalogue, apply_catalogue
from termgate.cli.common import cli_actor, console, fail, in_session, settings_or_exit
from termgate.cli.database import migrate
from termgate.core import passwords
from termgate.db.programme import Administrator
from termgate.registry.admins import create_administrator
from termgate.secret_settings import SecretFileError, read_secret_file

PASSWORD_VARIABLE = "TERMGATE_ADMIN_PASSWORD"


def weakness(password: str, email: str) -> str | None:
    """Why the password may not guard the first administrator, or None."""
    return passwords.weakness(password, email, "the administrator's password")


def _password(password_file: Path | None) -> str:
    """From the file, else the environment, else asked twice at a terminal; never a default."""
    if password_file is not None:
        return password_from_file(password_file, "--admin-password-file")
    from_environment = os.environ.get(PASSWORD_VARIABLE)
    if from_environment is not None:
        return from_environment
    return ask_password(
        "Password for the first administrator",
        f"give the first administrator's password: --admin-password-file FILE or "
        f"{PASSWORD_VARIABLE} (no terminal to ask at)",
    )


def ask_password(prompt: str, without_terminal: str) -> str:
    """Asked twice, hidden, at a terminal; without one (a script, cron) the command ends with
    `without_terminal` rather than reading a password that would be echoed."""
    if not sys.stdin.isatty():
        fail(without_terminal)
    answer: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return answer


def password_from_file(path: Path, option: str) -> str:
    try:
        return read_secret_file(option, str(path))
    except SecretFileError as error:
        fail(str(error))


async def _administrators(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Administrator)) or 0)


def init(
    admin_email: Annotated[
        str | None,
        typer.Option(envvar="TERMGATE_ADMIN_EMAIL", help="the first administrator's e-mail"),
    ] = None,
    admin_name: Annotated[
        str | None,
        typer.Option(envvar="TERMGATE_ADMIN_NAME", help="the first administrator's full name"),
    ] = None,
    admin_password_file: Annotated[
        Path | None,
        typer.Option(
            envvar="TERMGATE_ADMIN_PASSWORD_FILE",
            help=f"file holding the password (else {PASSWORD_VARIABLE} or a prompt)",
        ),
    ] = None,
    catalogue: Annotated[
        Path | None, typer.Option(help="a catalogue file to apply (docs/catalogue.md)")
    ] = None,
) -> None:
    """Production install: migrate, create the first administrator, apply a catalogue."""
    settings = settings_or_exit()
    wanted: Catalogue | None = load_or_exit(catalogue) if catalogue is not None else None
    shown = migrate()
    if in_session(_administrators):
        console.print(
            f"{shown} is already initialised (it has an administrator); nothing changed. "
            "Apply a catalogue with `termgate apply FILE`.",
            soft_wrap=True,
        )
        return
    if not admin_email or not admin_name:
        fail("give the first administrator: --admin-email and --admin-name")
    password = _password(admin_password_file)
    problem = weakness(password, admin_email)
    if problem:
        fail(problem)
    actor = cli_actor()

    async def work(session: AsyncSession) -> tuple[str, list[str]]:
        if await _administrators(session):  # another init won the race
            return "", []
        admin = await create_administrator(
            session, email=admin_email, name=admin_name, password=password, actor=actor
        )
        if wanted is None or catalogue is None:
            return admin.email, []
        lines = await apply_catalogue(session, wanted, actor, settings.now(), str(catalogue))
        return admin.email, lines

    email, lines = in_session(work)
    if not email:
        console.print(f"{shown} was initialised meanwhile; nothing changed")
        return
    console.print(f"schema up to date ({shown}); administrator {email} created", soft_wrap=True)
    if catalogue is not None:
        print_changes(lines)
    console.print("sign in at /console/login; nothing of the demo was created")
