"""`termgate apply FILE [--dry-run]` and `termgate export [--output FILE]`: the catalogue as a
file the provider keeps in version control (products, plans, maintenance, lifecycle)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.cli.catalogue_file import (
    Catalogue,
    apply_catalogue,
    export_catalogue,
    read_catalogue,
    render,
)
from termgate.cli.common import cli_actor, console, errors, fail, in_session, settings_or_exit
from termgate.registry.catalogue_toml import CatalogueFileError


class DryRunRollbackError(Exception):
    """Leaves the transaction by rolling it back, carrying what would have changed."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("dry run")
        self.lines = lines


def load_or_exit(path: Path) -> Catalogue:
    try:
        return read_catalogue(path)
    except CatalogueFileError as error:
        for line in error.problems:
            errors.print(f"[bold red]error:[/] {escape(line)}")
        raise typer.Exit(1) from None


def apply_file(path: Path, *, dry_run: bool = False) -> list[str]:
    """Apply the file in one transaction; the lines say what changed (or would change)."""
    catalogue = load_or_exit(path)
    settings = settings_or_exit()
    actor = cli_actor()

    async def work(session: AsyncSession) -> list[str]:
        lines = await apply_catalogue(session, catalogue, actor, settings.now(), str(path))
        if dry_run:
            raise DryRunRollbackError(lines)
        return lines

    try:
        return in_session(work)
    except DryRunRollbackError as outcome:
        return outcome.lines


def print_changes(lines: list[str], dry_run: bool = False) -> None:
    if not lines:
        console.print("no changes")
        return
    for line in lines:
        console.print(escape(line), soft_wrap=True)
    console.print(f"{len(lines)} change(s)" + (", none written (dry run)" if dry_run else ""))


def apply(
    file: Annotated[Path, typer.Argument(help="the catalogue file (TOML; docs/catalogue.md)")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show the changes, write nothing")
    ] = False,
) -> None:
    """Bring products, plans, maintenance window and lifecycle states to FILE (idempotent)."""
    print_changes(apply_file(file, dry_run=dry_run), dry_run)


def export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write here instead of stdout")
    ] = None,
) -> None:
    """Write the current catalogue in the format `termgate apply` reads."""
    text = render(in_session(export_catalogue))
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror}")
    console.print(f"catalogue written to {escape(str(output))}")
