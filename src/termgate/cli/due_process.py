"""`termgate incidents|terminate|attestations|case-file`: incident reports (clause 5.1),
termination (6.2), deletion attestations (6.4) and case files, from the command line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Literal, TypeVar

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

T = TypeVar("T")

incidents = typer.Typer(help="Incident reports (clause 5.1).", no_args_is_help=True)
attestations = typer.Typer(help="Deletion attestations (clause 6.4).", no_args_is_help=True)
case_files = typer.Typer(
    help="Case files of incidents, terminations and verifications.", no_args_is_help=True
)


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`in_session`, with a refusal about one input naming its option."""
    from termgate.governance.errors import PolicyInputError

    async def named(session: AsyncSession) -> T:
        try:
            return await work(session)
        except PolicyInputError as refusal:
            option = "--" + refusal.field.replace("_", "-")
            raise PolicyInputError(refusal.field, f"{option}: {refusal}") from None

    return in_session(named)


@incidents.command("list")
def incidents_list(as_json: JsonOutput = False) -> None:
    """Every incident report with its state and the clock to notify."""
    from termgate.due_process.incidents import clock, list_incidents

    now = settings_or_exit().now()
    rows = in_session(list_incidents)
    if as_json:
        print_json(
            [
                {
                    "id": incident.id,
                    "application_id": incident.application_id,
                    "state": incident.state.value,
                    "discovered_at": incident.discovered_at,
                    "clock": clock(incident, now).words,
                    "summary": incident.summary,
                }
                for incident in rows
            ]
        )
        return
    table = Table("id", "application", "state", "discovered (UTC)", "clock", "summary")
    for column in table.columns:
        column.overflow = "fold"
    for incident in rows:
        table.add_row(
            incident.id,
            incident.application_id,
            incident.state.value,
            f"{incident.discovered_at:%Y-%m-%d %H:%M}",
            clock(incident, now).words,
            incident.summary[:60],
        )
    console.print(table)


@incidents.command("contain")
def incidents_contain(
    incident_id: str,
    scope: Annotated[
        str, typer.Option(help="application: its keys and every token; end-users: the affected")
    ],
    reason: Annotated[str, typer.Option(help="recorded in the audit trail")] = "",
) -> None:
    """Revoke the application's keys and tokens, or only the affected end users' tokens."""
    from termgate.due_process.incidents import contain, incident_of

    now = settings_or_exit().now()

    async def work(session: AsyncSession) -> str:
        incident = await incident_of(session, incident_id)
        revoked = await contain(session, incident, scope, reason, cli_actor(), now)
        return f"{revoked.keys} keys and {revoked.token_families} token families revoked"

    console.print(f"Contained: {_run(work)}.")


def terminate(
    developer_id: str,
    ground: Annotated[str, typer.Option(help="uncured-breach, insolvency or other (6.2)")],
    reason: Annotated[str, typer.Option(help="recorded and sent to the developer")],
) -> None:
    """End a developer's licence: every key, secret, token and consent is revoked (6.2)."""
    from termgate.due_process import termination

    settings = settings_or_exit()

    async def work(session: AsyncSession) -> str:
        ended = await termination.terminate(
            session,
            developer_id,
            ground=termination.provider_ground(ground),
            reason=reason,
            actor=cli_actor(),
            settings=settings,
        )
        return (
            f"Terminated {developer_id}: {ended.keys_revoked} keys, "
            f"{ended.token_families_revoked} token families, {ended.consents_withdrawn} consents "
            f"revoked; {ended.end_users_told} end users notified (mail queued); deletion to be "
            f"attested by {ended.attestation_due_at:%Y-%m-%d %H:%M} UTC (termination {ended.id})."
        )

    console.print(_run(work))


@attestations.command("outstanding")
def attestations_outstanding(as_json: JsonOutput = False) -> None:
    """Who has not attested the deletion of stored content, the earliest deadline first."""
    from termgate.due_process.attestations import outstanding

    now = settings_or_exit().now()
    rows = in_session(outstanding)
    if as_json:
        print_json(
            [
                {
                    "termination_id": termination.id,
                    "developer_email": developer.email,
                    "attest_by": termination.attestation_due_at,
                    "overdue": termination.attestation_due_at <= now,
                }
                for termination, developer in rows
            ]
        )
        return
    table = Table("termination", "developer", "attest by (UTC)", "overdue")
    for termination, developer in rows:
        due = termination.attestation_due_at
        table.add_row(
            termination.id, developer.email, f"{due:%Y-%m-%d %H:%M}", "yes" if due <= now else ""
        )
    console.print(table)


@attestations.command("verify")
def attestations_verify(termination_id: str) -> None:
    """Check an attestation's signature and its entry in the audit chain."""
    from termgate.core.errors import NotFoundError
    from termgate.due_process.attestations import attestation_of, verify_attestation
    from termgate.due_process.termination import termination_of

    async def work(session: AsyncSession) -> list[str]:
        attestation = await attestation_of(session, await termination_of(session, termination_id))
        if attestation is None:
            raise NotFoundError(f"termination {termination_id} has no attestation yet")
        return await verify_attestation(session, attestation)

    problems = _run(work)
    if problems:
        fail("; ".join(problems))
    console.print("The attestation's signature verifies and the audit chain records it.")


@case_files.callback()
def case_files_group() -> None:
    """Case files of incidents, terminations and verifications."""


@case_files.command("export")
def case_file_export(
    kind: Annotated[str, typer.Argument(help="incident, termination or verification")],
    record_id: str,
    output: Annotated[Path, typer.Option(help="the file to write", dir_okay=False)],
    format: Annotated[
        Literal["json", "html", "pdf"], typer.Option(help="json, html or pdf")
    ] = "json",
) -> None:
    """Write one record as a document for the legal team: its timeline, evidence and the
    audit chain's proof."""
    import json

    from termgate.due_process.case_file import as_html, as_pdf, case_file

    now = settings_or_exit().now()
    document = _run(lambda session: case_file(session, kind, record_id, now))
    if format == "pdf":
        output.write_bytes(as_pdf(document))
    elif format == "html":
        output.write_text(as_html(document), encoding="utf-8")
    else:
        output.write_text(json.dumps(document, indent=2), encoding="utf-8")
    console.print(f"Wrote {output}.")
