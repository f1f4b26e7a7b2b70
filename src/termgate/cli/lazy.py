"""Commands imported only when they run, so `termgate --help` and each command start quickly.

Each command module pulls in what its work needs (SQLAlchemy's ORM, the governance modules, the
OpenAPI validator, the fake-data generator of the reference API); importing them all costs
seconds. `LazyGroup` lists a command by name and one-line help, and imports its module when the
command is invoked or its own help is asked for. `tests/cli/test_commands.py` checks that each
listed help is the command's own.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer import _click as click  # the Click that Typer carries and builds its commands on
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True, slots=True)
class Lazy:
    """A command in `module`: `attribute` is a Typer (a group), a function (one command), or,
    with `member`, a Typer whose command `member` is this command."""

    module: str
    attribute: str
    help: str
    member: str | None = None


def load(name: str, lazy: Lazy, ctx: click.Context) -> click.Command:
    found = getattr(importlib.import_module(lazy.module), lazy.attribute)
    if isinstance(found, typer.Typer):
        command = typer.main.get_command(found)
        if lazy.member is not None:
            assert isinstance(command, TyperGroup), lazy
            member = command.get_command(ctx, lazy.member)
            assert member is not None, lazy
            return member
    else:
        single = typer.Typer()
        single.command(name)(found)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """The root group: eager commands as Typer made them, then the lazy ones in `LAZY` order."""

    LAZY: ClassVar[dict[str, Lazy]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in self.LAZY if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in self.LAZY:
            return super().get_command(ctx, cmd_name)
        lazy = self.LAZY[cmd_name]
        if self._listing:  # the root's help needs a name and a line, not the command
            return TyperCommand(name=cmd_name, help=lazy.help)
        command = self.commands[cmd_name] = load(cmd_name, lazy, ctx)
        return command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
