"""`termgate cases list|show|open|escalate|accept`: cases of suspected breaches (clause 4.2)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.cli.common import cli_actor, console, in_session, settings_or_exit
from termgate.db.due_process import Case, CaseEvent
from termgate.due_process.cases import (
    accept_cure,
    escalate,
    get_case,
    list_cases,
    open_case,
    timeline,
)
from termgate.registry.clauses import load_policy
from termgate.registry.developers import find_developer

cases = typer.Typer(
    help="Cases of suspected breaches: notice, cure, escalation (clause 4.2).",
    no_args_is_help=True,
)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def _row(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "state": case.state,
        "developer_id": case.developer_id,
        "application_id": case.application_id,
        "clauses": case.clauses,
        "summary": case.summary,
        "opened_at": case.opened_at.isoformat(),
        "cure_deadline": case.cure_deadline.isoformat() if case.cure_deadline else None,
        "terminate_at": case.terminate_at.isoformat() if case.terminate_at else None,
    }


@cases.command("list")
def cases_list(
    state: Annotated[str | None, typer.Option(help="only cases in this state")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON array on stdout")] = False,
) -> None:
    """Cases, newest first."""

    async def work(session: AsyncSession) -> list[Case]:
        return await list_cases(session, state=state)

    found = in_session(work)
    if as_json:
        sys.stdout.write(json.dumps([_row(case) for case in found], indent=2) + "\n")
        return
    table = Table("id", "state", "clauses", "deadline (UTC)", "summary")
    for case in found:
        deadline = _when(case.cure_deadline or case.terminate_at)
        cells = (case.id, case.state, case.clauses, deadline, case.summary[:60])
        table.add_row(*(escape(cell) for cell in cells))
    console.print(table if found else "no cases")


@cases.command("show")
def cases_show(case_id: Annotated[str, typer.Argument(help="the case's id")]) -> None:
    """One case with its timeline."""

    async def work(session: AsyncSession) -> tuple[Case, list[CaseEvent]]:
        case = await get_case(session, case_id)
        return case, await timeline(session, case)

    case, events = in_session(work)
    for name, value in _row(case).items():
        console.print(f"{name}: {escape(str(value or ''))}")
    for event in events:
        line = f"{_when(event.at)}  {event.kind}  {event.actor}: {event.body.splitlines()[0:1]}"
        console.print(escape(line))


@cases.command("open")
def cases_open(
    developer: Annotated[str, typer.Argument(help="the developer's e-mail address or id")],
    clause: Annotated[list[str], typer.Option("--clause", help="a clause id; repeat for more")],
    summary: Annotated[str, typer.Option(help="what was seen; sent to the developer")],
    application: Annotated[str | None, typer.Option(help="the application's id")] = None,
    cure_days: Annotated[
        int | None, typer.Option(help="days to cure; default the policy's, 0 suspends at once")
    ] = None,
) -> None:
    """Open a case and notify the developer (or suspend at once for a critical clause)."""
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> Case:
        found = await find_developer(session, developer)
        return await open_case(
            session,
            developer_id=found.id,
            application_id=application,
            clauses=clause,
            summary=summary,
            actor=cli_actor(),
            now=settings.now(),
            cure_days=cure_days,
            policy=load_policy(settings.terms_dir),
        )

    case = in_session(work)
    console.print(f"case {case.id} opened: {case.state}, deadline {_when(case.cure_deadline)}")


@cases.command("escalate")
def cases_escalate(
    case_id: Annotated[str, typer.Argument(help="the case's id")],
    reason: Annotated[str, typer.Option(help="why; recorded in the audit trail")],
) -> None:
    """The policy's next step now: suspend the party, or terminate a suspended case."""
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> Case:
        policy = load_policy(settings.terms_dir)
        return await escalate(
            session, case_id, actor=cli_actor(), reason=reason, now=settings.now(), policy=policy
        )

    console.print(f"case {case_id} is {in_session(work).state}")


@cases.command("accept")
def cases_accept(
    case_id: Annotated[str, typer.Argument(help="the case's id")],
    reason: Annotated[str, typer.Option(help="why the remedy is accepted; sent to the developer")],
) -> None:
    """Accept the developer's remedy; a party the case suspended is reinstated."""
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> Case:
        return await accept_cure(
            session, case_id, actor=cli_actor(), reason=reason, now=settings.now()
        )

    console.print(f"case {case_id} is {in_session(work).state}")
