"""`termgate admin|terms|suspend|reinstate`: the provider's side of the programme from a shell."""

from __future__ import annotations

import enum
from datetime import datetime
from pathlib import Path
from typing import Annotated

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
    print_table,
    settings_or_exit,
)
from termgate.db.models import Status, utcnow
from termgate.db.programme import Administrator, AdminToken, TermsVersion
from termgate.registry.admin_tokens import (
    expiry_from_text,
    issue_admin_token,
    list_tokens,
    revoke_token,
)
from termgate.registry.admins import (
    create_administrator,
    disable_administrator,
    enable_administrator,
    find_administrator,
    list_administrators,
    parse_role,
    set_role,
)
from termgate.registry.applications import find_application
from termgate.registry.developers import find_developer
from termgate.registry.keys import find_key
from termgate.registry.status import change_status, describe
from termgate.registry.terms import acceptances, all_versions, publish_terms

administrators = typer.Typer(
    help="Provider administrators: console logins, roles, API tokens.", no_args_is_help=True
)
tokens = typer.Typer(help="Admin API bearer tokens: issue, list, revoke.", no_args_is_help=True)
administrators.add_typer(tokens, name="token")
terms = typer.Typer(help="Versions of the API Terms of Use (clause 9).", no_args_is_help=True)
moderation = typer.Typer()


class Kind(enum.StrEnum):
    developer = "developer"
    application = "application"
    subscription = "subscription"
    key = "key"


Role = Annotated[
    str, typer.Option(help="viewer (reads), operator (acts on the programme), owner (all)")
]
Why = Annotated[str, typer.Option(help="why; recorded in the audit trail")]


@administrators.command("create")
def admin_create(
    email: str,
    name: Annotated[str, typer.Option(help="the administrator's full name")],
    password: Annotated[
        str | None,
        typer.Option(help="console password (else --password-file, else asked at a terminal)"),
    ] = None,
    password_file: Annotated[
        Path | None,
        typer.Option(help="file holding the password (one trailing newline dropped)"),
    ] = None,
    role: Role = "owner",
) -> None:
    """Create an administrator who signs in to the provider console."""
    from termgate.cli.install import ask_password, password_from_file, weakness

    if password is None and password_file is not None:
        password = password_from_file(password_file, "--password-file")
    if password is None:
        password = ask_password(
            "Password", "give the password: --password-file FILE (no terminal to ask at)"
        )
    if problem := weakness(password, email):
        fail(problem)
    actor = cli_actor()

    async def work(session: AsyncSession) -> Administrator:
        return await create_administrator(
            session, email=email, name=name, password=password, role=parse_role(role), actor=actor
        )

    admin = in_session(work)
    console.print(
        f"administrator [bold]{admin.email}[/] created as {admin.role}; sign in at /console/login"
    )


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else ""


@administrators.command("list")
def admin_list(as_json: JsonOutput = False) -> None:
    """Every administrator: role, and whether disabled."""
    rows = in_session(list_administrators)
    if as_json:
        print_json([_admin_row(admin) for admin in rows])
        return
    table = Table("e-mail", "name", "role", "created", "disabled", "id")
    for admin in rows:
        table.add_row(
            admin.email,
            admin.name,
            admin.role.value,
            _when(admin.created_at),
            _when(admin.disabled_at),
            admin.id,
        )
    print_table(table)


def _admin_row(admin: Administrator) -> dict[str, object]:
    return {
        "id": admin.id,
        "email": admin.email,
        "name": admin.name,
        "role": admin.role.value,
        "created_at": admin.created_at,
        "disabled_at": admin.disabled_at,
    }


def _token_row(token: AdminToken, admin: Administrator) -> dict[str, object]:
    return {
        "id": token.id,
        "label": token.label,
        "administrator_id": admin.id,
        "administrator_email": admin.email,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


@administrators.command("set-role")
def admin_set_role(
    administrator: Annotated[str, typer.Argument(help="e-mail or id")],
    role: Annotated[str, typer.Argument(help="viewer, operator or owner")],
) -> None:
    """Change an administrator's role (the last active owner stays an owner)."""
    actor = cli_actor()

    async def work(session: AsyncSession) -> Administrator:
        admin = await find_administrator(session, administrator)
        return await set_role(session, admin, parse_role(role), actor)

    admin = in_session(work)
    console.print(f"administrator {admin.email} is now {admin.role}")


@administrators.command("disable")
def admin_disable(
    administrator: Annotated[str, typer.Argument(help="e-mail or id")], reason: Why
) -> None:
    """Disable an administrator: sessions end and tokens stop working at once."""
    actor = cli_actor()

    async def work(session: AsyncSession) -> Administrator:
        admin = await find_administrator(session, administrator)
        return await disable_administrator(session, admin, reason, actor)

    admin = in_session(work)
    console.print(f"administrator {admin.email} disabled; their sessions and tokens are refused")


@administrators.command("enable")
def admin_enable(
    administrator: Annotated[str, typer.Argument(help="e-mail or id")], reason: Why
) -> None:
    """Enable a disabled administrator again (their unrevoked tokens work again)."""
    actor = cli_actor()

    async def work(session: AsyncSession) -> Administrator:
        admin = await find_administrator(session, administrator)
        return await enable_administrator(session, admin, reason, actor)

    admin = in_session(work)
    console.print(f"administrator {admin.email} enabled")


@tokens.command("issue")
def token_issue(
    administrator: Annotated[str, typer.Argument(help="e-mail or id of the token's holder")],
    label: Annotated[str, typer.Option(help="what the token is for")] = "cli",
    expires: Annotated[
        str | None, typer.Option(help="30d, 12h, 90m or an ISO date/time (UTC); default never")
    ] = None,
) -> None:
    """Issue an admin API bearer token; it is shown once and stored only as a hash."""
    actor = cli_actor()

    async def work(session: AsyncSession) -> str:
        admin = await find_administrator(session, administrator)
        until = expiry_from_text(expires, utcnow()) if expires is not None else None
        return await issue_admin_token(session, admin, label, expires_at=until, actor=actor)

    token = in_session(work)
    console.print("admin API token (shown once; send it as `Authorization: Bearer …`):")
    console.print(token, soft_wrap=True)


@tokens.command("list")
def token_list(
    administrator: Annotated[
        str | None, typer.Argument(help="only this administrator's (e-mail or id)")
    ] = None,
    as_json: JsonOutput = False,
) -> None:
    """Admin API tokens: label, holder, created, expiry, last use, revoked."""

    async def work(session: AsyncSession) -> list[tuple[AdminToken, Administrator]]:
        holder = await find_administrator(session, administrator) if administrator else None
        return await list_tokens(session, holder)

    found = in_session(work)
    if as_json:
        print_json([_token_row(token, admin) for token, admin in found])
        return
    table = Table("id", "label", "administrator", "created", "expires", "last use", "revoked")
    for token, admin in found:
        table.add_row(
            token.id,
            token.label,
            admin.email,
            _when(token.created_at),
            _when(token.expires_at),
            _when(token.last_used_at),
            _when(token.revoked_at),
        )
    print_table(table)


@tokens.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="the id `token list` shows")],
) -> None:
    """Revoke an admin API token; every node refuses it from the next request on."""
    actor = cli_actor()

    async def work(session: AsyncSession) -> AdminToken:
        return await revoke_token(session, token_id, actor)

    token = in_session(work)
    console.print(f"admin token {token.label!r} revoked")


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
    actor = cli_actor()

    async def work(session: AsyncSession) -> TermsVersion:
        return await publish_terms(
            session,
            settings,
            version=version,
            title=title,
            body=body,
            change_summary=summary,
            actor=actor,
            reaccept_days=reaccept_days,
        )

    published = in_session(work)
    deadline = published.reaccept_deadline
    console.print(
        f"terms version [bold]{published.version}[/] published"
        + (f"; developers must accept it by {deadline:%Y-%m-%d %H:%M} UTC" if deadline else "")
    )


@terms.command("list")
def terms_list(as_json: JsonOutput = False) -> None:
    """Every published version, newest first, with how many developers accepted it."""

    async def work(session: AsyncSession) -> list[tuple[TermsVersion, int]]:
        return [(v, len(await acceptances(session, v))) for v in await all_versions(session)]

    rows = in_session(work)
    if as_json:
        print_json(
            [
                {
                    "version": version.version,
                    "current": index == 0,
                    "title": version.title,
                    "published_at": version.published_at,
                    "published_by": version.published_by,
                    "reaccept_deadline": version.reaccept_deadline,
                    "accepted": accepted,
                }
                for index, (version, accepted) in enumerate(rows)
            ]
        )
        return
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
    actor = cli_actor()

    async def work(session: AsyncSession) -> str:
        party_id = await _party_id(session, kind, reference)
        party = await change_status(session, kind.value, party_id, status, reason, actor)
        return describe(party)

    what = in_session(work)
    done = "suspended" if status is Status.SUSPENDED else "reinstated"
    console.print(
        f"{what} {done}; a notice to the developer is queued and the audit trail has the reason"
    )


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
