"""`termgate developer|app|key ...`: the registry from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.cli.common import (
    JsonOutput,
    cli_actor,
    console,
    in_session,
    print_json,
    print_table,
)
from termgate.core.errors import RegistryError
from termgate.db.models import Application, Developer, SubscriptionKey
from termgate.registry.applications import create_application, find_application, list_applications
from termgate.registry.developers import create_developer, find_developer, list_developers
from termgate.registry.keys import issue_key, list_keys, revoke_key, subscribe
from termgate.registry.products import find_plan
from termgate.registry.terms import accept_terms as accept_terms_for
from termgate.registry.terms import current_terms

OFFLINE_ACCEPTANCE = "recorded by an operator with the termgate command line (signed agreement)"
developers = typer.Typer(help="Developer accounts.", no_args_is_help=True)
applications = typer.Typer(help="Applications of developers.", no_args_is_help=True)
keys = typer.Typer(help="Subscription keys (X-Subscription-Key).", no_args_is_help=True)


def _when(row: Developer | Application | SubscriptionKey) -> str:
    return row.created_at.strftime("%Y-%m-%d %H:%M")


def _developer_fields(row: Developer) -> dict[str, object]:
    return {
        "id": row.id,
        "email": row.email,
        "name": row.name,
        "organisation": row.organisation,
        "status": row.status.value,
        "status_reason": row.status_reason,
        "email_verified": row.email_verified_at is not None,
        "created_at": row.created_at,
    }


def _application_fields(row: Application, email: str) -> dict[str, object]:
    return {
        "id": row.id,
        "name": row.name,
        "developer_id": row.developer_id,
        "developer_email": email,
        "data_access": row.data_access,
        "environment": row.environment.value,
        "status": row.status.value,
        "status_reason": row.status_reason,
        "created_at": row.created_at,
    }


def _key_fields(row: SubscriptionKey) -> dict[str, object]:
    subscription = row.subscription
    return {
        "id": row.id,
        "prefix": row.prefix,
        "slot": row.slot,
        "subscription_id": row.subscription_id,
        "application_id": subscription.application_id,
        "application": subscription.application.name,
        "plan_id": subscription.plan_id,
        "plan": subscription.plan.name,
        "status": row.status.value,
        "status_reason": row.status_reason,
        "created_at": row.created_at,
        "revoked_at": row.revoked_at,
    }


@developers.command("create")
def developer_create(
    email: str,
    name: Annotated[str, typer.Option(help="the developer's full name")],
    organisation: Annotated[str | None, typer.Option(help="company or team")] = None,
    accept_terms: Annotated[
        bool,
        typer.Option(
            help="record that the developer accepted the current terms outside the portal "
            "(a signed agreement); the acceptance ledger notes it as such"
        ),
    ] = False,
) -> None:
    """Register a developer account (they sign up themselves in the portal as a rule)."""

    actor = cli_actor()

    async def work(session: AsyncSession) -> Developer:
        developer = await create_developer(
            session, email=email, name=name, organisation=organisation, actor=actor
        )
        if accept_terms:
            terms = await current_terms(session)
            if terms is None:
                raise RegistryError("no terms are published yet (`termgate terms publish`)")
            await accept_terms_for(
                session, developer, terms, "offline", OFFLINE_ACCEPTANCE, recorded_by=actor
            )
        return developer

    developer = in_session(work)
    console.print(f"developer [bold]{developer.email}[/] created: id {developer.id}")


@developers.command("list")
def developer_list(as_json: JsonOutput = False) -> None:
    """Every developer account."""
    rows = in_session(list_developers)
    if as_json:
        print_json([_developer_fields(row) for row in rows])
        return
    table = Table("id", "e-mail", "name", "organisation", "status", "created")
    for row in rows:
        table.add_row(
            row.id, row.email, row.name, row.organisation or "", row.status.value, _when(row)
        )
    print_table(table)


@applications.command("create")
def application_create(
    developer: Annotated[str, typer.Option(help="the owner's id or e-mail address")],
    name: Annotated[str, typer.Option(help="the application's name")],
    description: Annotated[str, typer.Option(help="what it does")] = "",
    use_case: Annotated[str, typer.Option(help="why it needs the data")] = "",
    data_access: Annotated[
        str | None,
        typer.Option(help="how it reads data: on_demand, scheduled_sync or periodic_reports"),
    ] = None,
) -> None:
    """Register an application (sandbox access until the provider approves production)."""

    async def work(session: AsyncSession) -> Application:
        owner = await find_developer(session, developer)
        return await create_application(
            session,
            owner,
            name=name,
            description=description,
            use_case=use_case,
            data_access=data_access,
            actor=cli_actor(),
        )

    application = in_session(work)
    console.print(f"application [bold]{application.name}[/] created: id {application.id}")


@applications.command("list")
def application_list(
    developer: Annotated[str | None, typer.Option(help="only this developer's")] = None,
    as_json: JsonOutput = False,
) -> None:
    """Applications, with their owner and access."""

    async def work(session: AsyncSession) -> list[tuple[Application, str]]:
        owner = await find_developer(session, developer) if developer else None
        rows = await list_applications(session, owner)
        emails = {d.id: d.email for d in await list_developers(session)}
        return [(row, emails[row.developer_id]) for row in rows]

    rows = in_session(work)
    if as_json:
        print_json([_application_fields(row, email) for row, email in rows])
        return
    table = Table("id", "name", "developer", "environment", "status", "created")
    for row, email in rows:
        table.add_row(row.id, row.name, email, row.environment.value, row.status.value, _when(row))
    print_table(table)


@keys.command("create")
def key_create(
    application: Annotated[str, typer.Argument(help="the application's id or name")],
    product: Annotated[str, typer.Option(help="product to subscribe to")] = "sandbox",
    plan: Annotated[str | None, typer.Option(help="plan of the product (default: first)")] = None,
    slot: Annotated[str, typer.Option(help="primary or secondary")] = "primary",
) -> None:
    """Subscribe the application to a product's plan and issue a key (shown once)."""

    async def work(session: AsyncSession) -> tuple[str, SubscriptionKey]:
        app = await find_application(session, application)
        chosen = await find_plan(session, product, plan)
        subscription = await subscribe(session, app, chosen, actor=cli_actor())
        issued = await issue_key(session, subscription, slot, actor=cli_actor())
        return issued.secret, issued.row

    secret, row = in_session(work)
    console.print(f"{slot} key {row.id} for {product}; it is shown only this once:")
    console.print(secret, style="bold", soft_wrap=True)


@keys.command("list")
def key_list(
    application: Annotated[
        str | None, typer.Option("--app", help="only this application's")
    ] = None,
    as_json: JsonOutput = False,
) -> None:
    """Keys by prefix (their secrets are not stored)."""

    async def work(session: AsyncSession) -> list[SubscriptionKey]:
        owner = await find_application(session, application) if application else None
        return await list_keys(session, owner)

    rows = in_session(work)
    if as_json:
        print_json([_key_fields(row) for row in rows])
        return
    table = Table("id", "prefix", "slot", "application", "plan", "status", "created")
    for row in rows:
        subscription = row.subscription
        table.add_row(
            row.id,
            f"{row.prefix}…",
            row.slot,
            subscription.application.name,
            subscription.plan.name,
            row.status.value,
            _when(row),
        )
    print_table(table)


@keys.command("revoke")
def key_revoke(
    key: Annotated[str, typer.Argument(help="the key's id or its prefix")],
    reason: Annotated[str, typer.Option(help="why, for the audit trail")] = "revoked by operator",
) -> None:
    """Revoke a key at once on every gateway node."""
    actor = cli_actor()

    async def work(session: AsyncSession) -> SubscriptionKey:
        return await revoke_key(session, key, reason, actor)

    row = in_session(work)
    console.print(f"key {row.prefix}… revoked")
