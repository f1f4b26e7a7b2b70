"""The `termgate` command line: serve, demo, the reference upstream, migrations and the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.cli.admin import administrators, moderation, terms
from termgate.cli.catalogue import apply, export
from termgate.cli.common import apply_options, console, in_session, migrate, settings_or_exit
from termgate.cli.demo import CREDENTIALS_FILE, demo_services, serve_demo
from termgate.cli.demo_seed import DemoCredentials, read_previous, seed_demo
from termgate.cli.install import init
from termgate.cli.openapi import openapi
from termgate.cli.plans import plans
from termgate.cli.registry import applications, developers, keys
from termgate.cli.traffic import announce_change, lifecycle, maintenance

app = typer.Typer(
    name="termgate",
    help="API governance: a gateway that enforces your API's terms of use.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
database = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(database, name="db")
app.add_typer(developers, name="developer")
app.add_typer(applications, name="app")
app.add_typer(keys, name="key")
app.add_typer(plans, name="plan")
app.add_typer(administrators, name="admin")
app.add_typer(terms, name="terms")
app.add_typer(moderation)
app.add_typer(maintenance, name="maintenance")
app.add_typer(lifecycle, name="lifecycle")
app.command("announce")(announce_change)
app.command("openapi")(openapi)
app.command("init")(init)
app.command("apply")(apply)
app.command("export")(export)

Port = Annotated[int | None, typer.Option(help="TCP port (default: TERMGATE_PORT or 8000)")]


@database.command("upgrade")
def db_upgrade() -> None:
    """Create or update the schema (SQLite file or PostgreSQL) to the newest version."""
    shown = migrate()
    console.print(f"database schema is up to date ({shown})")


MaintenanceOption = Annotated[
    bool,
    typer.Option(
        "--maintenance/--no-maintenance",
        help="seed the weekly maintenance window of clause 8 (Wednesday 20:00 Europe/Amsterdam)",
    ),
]


def seed_and_write(credentials: Path, maintenance: bool = True) -> DemoCredentials:
    settings = settings_or_exit()
    previous = read_previous(credentials)

    async def work(session: AsyncSession) -> DemoCredentials:
        return await seed_demo(session, settings, previous, maintenance_window=maintenance)

    seeded = in_session(work)
    seeded.write(credentials)
    return seeded


@app.command()
def seed(
    credentials: Annotated[Path, typer.Option(help="where to write the demo logins")] = (
        CREDENTIALS_FILE
    ),
    maintenance: MaintenanceOption = True,
) -> None:
    """Create the default products and the demo developer, application and key (idempotent)."""
    seeded = seed_and_write(credentials, maintenance)
    console.print(f"demo developer {seeded.developer_email}; credentials in {credentials}")


@app.command()
def serve(
    port: Port = None,
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    workers: Annotated[int | None, typer.Option(help="worker processes")] = None,
) -> None:
    """Serve the gateway (under /api) and the control plane."""
    from termgate.server import run_server

    apply_options(port=port, host=host, workers=workers)
    run_server(settings_or_exit())


@app.command()
def upstream(
    port: Annotated[int | None, typer.Option(help="TCP port (default 8001)")] = None,
    employees: Annotated[int | None, typer.Option(help="employees to generate")] = None,
    seed: Annotated[int | None, typer.Option(help="seed of the generated data")] = None,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the reference API of the published contract alone (fake, deterministic data)."""
    from termgate.reference_api import serve as serve_upstream

    apply_options(upstream_port=port, employees=employees, seed=seed)
    settings = settings_or_exit()
    serve_upstream(
        settings.host, settings.upstream_port, settings.seed, settings.employees, workers
    )


@app.command()
def demo(
    port: Port = None,
    employees: Annotated[int | None, typer.Option(help="employees to generate")] = None,
    maintenance: MaintenanceOption = True,
) -> None:
    """Migrate, seed and run everything on http://127.0.0.1:8000 with the reference API."""
    apply_options(port=port, employees=employees)
    migrate()
    with demo_services(settings_or_exit()):
        seed_and_write(CREDENTIALS_FILE, maintenance)
        serve_demo(settings_or_exit(), CREDENTIALS_FILE)


def main() -> None:
    app()
