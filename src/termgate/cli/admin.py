"""`termgate admin|terms|suspend|reinstate`: the provider's side of the programme from a shell."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.cli.common import console, fail, in_session, print_table, settings_or_exit
from termgate.db.models import Status
from termgate.db.programme import Administrator, TermsVersion
from termgate.registry.admins import create_administrator, find_administrator, issue_admin_token
from termgate.registry.applications import find_application
from termgate.registry.developers import find_developer
from termgate.registry.keys import find_key
from termgate.registry.status import change_status, describe
from termgate.registry.terms import acceptances, all_versions, publish_terms

OPERATOR = "operator"
administrators = typer.Typer(
    help="Provider administrators: console logins, API tokens.", no_args_is_help=True
)
terms = typer.Typer(help="Versions of the API Terms of Use (clause 9).", no_args_is_help=True)
moderation = typer.Typer()


class Kind(enum.StrEnum):
    developer = "developer"
    application = "application"
    subscription = "subscription"
    key = "key"


@administrators.command("create")
def admin_create(
    email: str,
    name: Annotated[str, typer.Option(help="the administrator's full name")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            confirmation_prompt=True,
            hide_input=True,
            help="console password (asked for when not given)",
        ),
    ],
) -> None:
    """Create an administrator who signs in to the provider console."""
    if not password:
        fail("give a password; the administrator signs in to the console with it")

    async def work(session: AsyncSession) -> Administrator:
        return await create_administrator(session, email=email, name=name, password=password)

    admin = in_session(work)
    console.print(f"administrator [bold]{admin.email}[/] created; sign in at /console/login")


@administrators.command("token")
def admin_token(
    email: str,
    label: Annotated[str, typer.Option(help="what the token is for")] = "cli",
) -> None:
    """Issue an admin API bearer token; it is shown once and stored only as a hash."""

    async def work(session: AsyncSession) -> str:
        return await issue_admin_token(session, await find_administrator(session, email), label)

    token = in_session(work)
    console.print("admin API token (shown once; send it as `Authorization: Bearer …`):")
    console.print(token, soft_wrap=True)


@terms.command("publish")
def terms_publish(
    file: Annotated[Path, typer.Argument(help="the full text (Markdown)")],
    version: Annotated[str, typer.Option(help="a new version label, e.g. 1.1")],
    title: Annotated[str, typer.Option(help="the document's title")],
    summary: Annotated[str, typer.Option(help="what changed; sent to every developer")],
    reaccept_days: Annotated[
        int | None, typer.Option(min=0, max=365, help="days developers have to accept it")
    ] = None,
) -> None:
    """Publish a new terms version; every developer is told and must accept it in time."""
    try:
        body = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {file}: {error}")
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> TermsVersion:
        return await publish_terms(
            session,
            settings,
            version=version,
            title=title,
            body=body,
            change_summary=summary,
            actor=OPERATOR,
            reaccept_days=reaccept_days,
        )

    published = in_session(work)
    deadline = published.reaccept_deadline
    console.print(
        f"terms version [bold]{published.version}[/] published"
        + (f"; developers must accept it by {deadline:%Y-%m-%d %H:%M} UTC" if deadline else "")
    )


@terms.command("list")
def terms_list() -> None:
    """Every published version, newest first, with how many developers accepted it."""

    async def work(session: AsyncSession) -> list[tuple[TermsVersion, int]]:
        return [(v, len(await acceptances(session, v))) for v in await all_versions(session)]

    rows = in_session(work)
    table = Table("version", "title", "published", "by", "accept by", "accepted")
    for index, (version, accepted) in enumerate(rows):
        deadline = version.reaccept_deadline
        table.add_row(
            version.version + (" (current)" if index == 0 else ""),
            version.title,
            f"{version.published_at:%Y-%m-%d %H:%M}",
            version.published_by,
            f"{deadline:%Y-%m-%d %H:%M}" if deadline else "",
            str(accepted),
        )
    print_table(table)


async def _party_id(session: AsyncSession, kind: Kind, reference: str) -> str:
    """Ids, or what people have at hand: an e-mail, an application name, a key prefix."""
    if kind is Kind.developer:
        return (await find_developer(session, reference)).id
    if kind is Kind.application:
        return (await find_application(session, reference)).id
    if kind is Kind.key:
        return (await find_key(session, reference)).id
    return reference


def _change(kind: Kind, reference: str, status: Status, reason: str) -> None:
    async def work(session: AsyncSession) -> str:
        party_id = await _party_id(session, kind, reference)
        party = await change_status(session, kind.value, party_id, status, reason, OPERATOR)
        return describe(party)

    what = in_session(work)
    done = "suspended" if status is Status.SUSPENDED else "reinstated"
    console.print(f"{what} {done}; the developer is told and the audit trail has the reason")


Reason = Annotated[str, typer.Option(help="why; recorded and sent to the developer")]
Reference = Annotated[str, typer.Argument(help="id (or e-mail, application name, key prefix)")]


@moderation.command()
def suspend(kind: Kind, party: Reference, reason: Reason) -> None:
    """Suspend a developer, application, subscription or key (clause 3.1)."""
    _change(kind, party, Status.SUSPENDED, reason)


@moderation.command()
def reinstate(kind: Kind, party: Reference, reason: Reason) -> None:
    """Reinstate a suspended developer, application, subscription or key."""
    _change(kind, party, Status.ACTIVE, reason)
