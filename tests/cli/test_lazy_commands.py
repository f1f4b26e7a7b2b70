"""The command line starts quickly: `termgate --help` imports no command's work, and a command
imports only what it needs (`termgate.cli.lazy`); the help listed for a command not yet
imported is the command's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer import _click as click

from termgate.cli import Commands, app
from termgate.cli.lazy import load

HEAVY = ("sqlalchemy", "pydantic", "faker", "openapi_spec_validator", "joserfc", "alembic")


def modules_after(tmp_path: Path, *args: str) -> tuple[int, set[str]]:
    """The exit status and the top-level packages a real `termgate ARGS` process imported."""
    probe = (
        "import sys\n"
        "from termgate.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as done:\n"
        "    status = done.code or 0\n"
        "print('\\n'.join(sorted({name.split('.')[0] for name in sys.modules})), file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("TERMGATE_")}
    env |= {"TERMGATE_VAR_DIR": str(tmp_path / "var"), "COLUMNS": "200"}
    env["TERMGATE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'termgate.db'}"
    done = subprocess.run(
        [sys.executable, "-c", probe, *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, set(done.stderr.split())


def test_help_imports_none_of_the_commands_work(tmp_path: Path) -> None:
    status, modules = modules_after(tmp_path, "--help")
    assert status == 0
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_db_current_imports_neither_the_gateway_nor_the_demo_data(tmp_path: Path) -> None:
    status, modules = modules_after(tmp_path, "db", "current")
    assert status == 1  # no database yet: one line, and nothing created
    assert "sqlalchemy" in modules
    assert modules.isdisjoint({"faker", "openapi_spec_validator", "fastapi", "granian"})
    assert not (tmp_path / "termgate.db").exists()


@pytest.mark.parametrize("name", list(Commands.LAZY))
def test_the_help_listed_for_a_lazy_command_is_its_own(name: str) -> None:
    lazy = Commands.LAZY[name]
    root = typer.main.get_command(app)
    assert isinstance(root, Commands)
    command = load(name, lazy, click.Context(root))
    own = " ".join((command.help or "").split("\n\n")[0].split())
    assert own == lazy.help
