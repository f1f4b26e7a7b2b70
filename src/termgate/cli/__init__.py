"""The `termgate` command line: serve, demo, the reference upstream, migrations and the registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ClassVar

import typer

from termgate.cli.common import apply_options, console, fail, in_session, settings_or_exit
from termgate.cli.lazy import Lazy, LazyGroup

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from termgate.cli.demo_seed import DemoCredentials


class Commands(LazyGroup):
    """Every command but those below, imported when it runs (`termgate.cli.lazy`)."""

    LAZY: ClassVar[dict[str, Lazy]] = {
        "announce": Lazy("termgate.cli.traffic", "announce_change",
                         "Announce a change to the developers whose apps called the operations "
                         "in 90 days."),
        "openapi": Lazy("termgate.cli.openapi", "openapi",
                        "Check an OpenAPI 3.0/3.1 document: the operations the gateway serves "
                        "and what it cannot use."),
        "db": Lazy("termgate.cli.database", "database", "Database schema."),
        "developer": Lazy("termgate.cli.registry", "developers", "Developer accounts."),
        "app": Lazy("termgate.cli.registry", "applications", "Applications of developers."),
        "key": Lazy("termgate.cli.registry", "keys", "Subscription keys (X-Subscription-Key)."),
        "plan": Lazy("termgate.cli.plans", "plans", "Plans and their limits."),
        "signing-key": Lazy("termgate.cli.signing_keys", "signing",
                            "Keys that sign access tokens."),
        "admin": Lazy("termgate.cli.admin", "administrators",
                      "Provider administrators: console logins, roles, API tokens."),
        "terms": Lazy("termgate.cli.admin", "terms",
                      "Versions of the API Terms of Use (clause 9)."),
        "suspend": Lazy("termgate.cli.admin", "moderation",
                        "Suspend a developer, application, subscription or key (clause 3.1).",
                        member="suspend"),
        "reinstate": Lazy("termgate.cli.admin", "moderation",
                          "Reinstate a suspended developer, application, subscription or key.",
                          member="reinstate"),
        "maintenance": Lazy("termgate.cli.traffic", "maintenance",
                            "The maintenance calendar (clause 8)."),
        "lifecycle": Lazy("termgate.cli.traffic", "lifecycle",
                          "Operation lifecycles: deprecate, sunset, brown-outs, retire "
                          "(clause 4.6)."),
        "usage": Lazy("termgate.cli.usage", "usage", "Usage events and their retention."),
        "findings": Lazy("termgate.cli.findings", "findings",
                         "Findings of the detectors (clause 4.1)."),
        "detect": Lazy("termgate.cli.findings", "detect",
                       "Detection passes over the usage events (clause 4.1)."),
        "mail": Lazy("termgate.cli.mail", "mail",
                     "The mail outbox: delivery, pending and failed mail."),
        "cases": Lazy("termgate.cli.cases", "cases",
                      "Cases of suspected breaches: notice, cure, escalation (clause 4.2)."),
        "init": Lazy("termgate.cli.install", "init",
                     "Production install: migrate, create the first administrator, apply a "
                     "catalogue."),
        "apply": Lazy("termgate.cli.catalogue", "apply",
                      "Bring products, plans, maintenance window and lifecycle states to FILE "
                      "(idempotent)."),
        "incidents": Lazy("termgate.cli.due_process", "incidents",
                          "Incident reports (clause 5.1)."),
        "terminate": Lazy("termgate.cli.due_process", "terminate",
                          "End a developer's licence: every key, secret, token and consent is "
                          "revoked (6.2)."),
        "attestations": Lazy("termgate.cli.due_process", "attestations",
                             "Deletion attestations (clause 6.4)."),
        "case-file": Lazy("termgate.cli.due_process", "case_files",
                          "Case files of incidents, terminations and verifications."),
        "simulate": Lazy("termgate.cli.simulate", "simulate",
                         "Play labelled honest and misusing integrations through the gateway "
                         "(simulated time)."),
        "export": Lazy("termgate.cli.catalogue", "export",
                       "Write the current catalogue in the format `termgate apply` reads."),
    }  # fmt: skip


app = typer.Typer(
    name="termgate",
    cls=Commands,
    help="API governance: a gateway that enforces your API's terms of use.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

Port = Annotated[int | None, typer.Option(help="TCP port (default: TERMGATE_PORT or 8000)")]


MaintenanceOption = Annotated[
    bool,
    typer.Option(
        "--maintenance/--no-maintenance",
        help="seed the weekly maintenance window of clause 8 (Wednesday 20:00 Europe/Amsterdam)",
    ),
]


def credentials_file() -> Path:
    from termgate.cli.demo import CREDENTIALS_FILE

    return CREDENTIALS_FILE


def seed_and_write(credentials: Path, maintenance: bool = True) -> DemoCredentials:
    from termgate.cli.demo_seed import read_previous, seed_demo

    settings = settings_or_exit()
    previous = read_previous(credentials)

    async def work(session: AsyncSession) -> DemoCredentials:
        return await seed_demo(session, settings, previous, maintenance_window=maintenance)

    seeded = in_session(work)
    seeded.write(credentials)
    return seeded


@app.command()
def seed(
    credentials: Annotated[
        Path | None,
        typer.Option(
            help="where to write the demo logins [default: TERMGATE_VAR_DIR/demo-credentials.json]"
        ),
    ] = None,
    maintenance: MaintenanceOption = True,
) -> None:
    """Create the default products and the demo developer, application and key (idempotent)."""
    credentials = credentials or credentials_file()
    seeded = seed_and_write(credentials, maintenance)
    console.print(f"demo developer {seeded.developer_email}; credentials in {credentials}")


@app.command()
def serve(
    port: Port = None,
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    workers: Annotated[int | None, typer.Option(help="worker processes")] = None,
) -> None:
    """Serve the gateway (under /api) and the control plane."""
    from termgate.preflight import StartupError, preflight

    apply_options(port=port, host=host, workers=workers)
    settings = settings_or_exit()
    try:  # before the server's imports: a refusal comes in a second, not after the whole app
        preflight(settings)
    except StartupError as error:
        fail(str(error))
    from termgate.server import run_server

    run_server(settings, checked=True)


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
    from termgate.cli.database import migrate
    from termgate.cli.demo import demo_services, serve_demo

    apply_options(port=port, employees=employees)
    migrate()
    with demo_services(settings_or_exit()):
        seed_and_write(credentials_file(), maintenance)
        serve_demo(settings_or_exit(), credentials_file())


def main() -> None:
    app()
