"""`termgate signing-key list|rotate|rewrap|prune`: the keys that sign access tokens.

See docs/security.md for the procedures: rotating a signing key, and re-sealing the keys after
the secret key changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.cli.common import (
    JsonOutput,
    cli_actor,
    console,
    fail,
    in_session,
    print_json,
    settings_or_exit,
)
from termgate.db.key_seal import SealError, seal_for
from termgate.db.models import utcnow
from termgate.db.oauth import SigningKey
from termgate.identity import signing_keys as keys
from termgate.identity.tokens import ACCESS_TOKEN_LIFETIME
from termgate.secret_settings import SecretFileError, read_secret_file

T = TypeVar("T")

signing = typer.Typer(help="Keys that sign access tokens.", no_args_is_help=True)


def _sealed_work(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    try:
        return in_session(work)
    except SealError as error:
        fail(f"{error}; nothing was changed")


def _when(row: SigningKey, name: str) -> str:
    value = getattr(row, name)
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"


@signing.command("list")
def signing_list(as_json: JsonOutput = False) -> None:
    """Every published key: its state, when it signs, and whether the secret key opens it."""
    settings = settings_or_exit()
    seal = keys.seal_of(settings)
    now = utcnow()  # key lifetimes run on the real clock
    rows = in_session(keys.listed)
    if as_json:
        print_json(
            [
                {
                    "kid": row.kid,
                    "state": keys.state(row, now),
                    "created_at": row.created_at,
                    "activates_at": row.activates_at,
                    "retired_at": row.retired_at,
                    "sealed_by_this_secret_key": row.seal_id == seal.seal_id,
                    "seal_id": row.seal_id,
                }
                for row in rows
            ]
        )
        return
    table = Table("kid", "state", "created (UTC)", "signs from", "retired", "sealed")
    for column in table.columns:
        column.overflow = "fold"  # a kid or a time cut short at 80 columns cannot be used
    for row in rows:
        sealed = "this secret key" if row.seal_id == seal.seal_id else f"other ({row.seal_id})"
        table.add_row(
            row.kid,
            keys.state(row, now),
            _when(row, "created_at"),
            _when(row, "activates_at"),
            _when(row, "retired_at"),
            sealed,
        )
    console.print(table)


@signing.command("rotate")
def signing_rotate(
    publish_minutes: Annotated[
        int,
        typer.Option(
            min=0,
            max=7 * 24 * 60,
            help="minutes the new key is published before it signs (JWKS caches must hold it)",
        ),
    ] = int(keys.PUBLISH_BEFORE_USE.total_seconds() // 60),
) -> None:
    """Publish a new signing key now; it signs after --publish-minutes, the current key until
    then (and stays published until `prune`)."""
    seal = keys.seal_of(settings_or_exit())

    async def work(session: AsyncSession) -> SigningKey:
        return await keys.rotate(
            session, seal, cli_actor(), publish_for=timedelta(minutes=publish_minutes)
        )

    new = _sealed_work(work)
    console.print(
        f"signing key {new.kid} published; it signs from "
        f"{new.activates_at.isoformat(timespec='seconds')}"
    )


@signing.command("rewrap")
def signing_rewrap(
    old_secret_file: Annotated[
        Path,
        typer.Option(help="file holding the secret key the signing keys are sealed with now"),
    ],
) -> None:
    """Re-seal the signing keys under the current TERMGATE_SECRET_KEY after it changed."""
    try:
        old_secret = read_secret_file("--old-secret-file", str(old_secret_file))
    except SecretFileError as error:
        fail(str(error))
    if not old_secret:
        fail(f"--old-secret-file: {str(old_secret_file)!r} is empty")
    new = keys.seal_of(settings_or_exit())
    old = seal_for(old_secret)

    async def work(session: AsyncSession) -> keys.Rewrapped:
        return await keys.rewrap(session, old, new, cli_actor())

    done = _sealed_work(work)
    console.print(
        f"re-sealed {len(done.resealed)} signing key(s) under the current secret key "
        f"(seal id {new.seal_id}); {len(done.already)} already were"
    )


@signing.command("prune")
def signing_prune() -> None:
    """Remove keys retired longer ago than an access token lives (nothing they signed is
    valid any more) from the database and the JWKS."""

    async def work(session: AsyncSession) -> list[str]:
        return await keys.prune(session, ACCESS_TOKEN_LIFETIME, cli_actor())

    pruned = in_session(work)
    console.print(f"removed {len(pruned)} retired signing key(s){': ' if pruned else ''}"
                  + ", ".join(pruned))  # fmt: skip
