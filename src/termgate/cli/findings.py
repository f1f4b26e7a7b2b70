"""`termgate findings list|show|dismiss` and `termgate detect run`: the detectors' findings
(clause 4.1) and one detection pass on demand (`serve` runs them itself)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.cli.common import (
    cli_actor,
    console,
    fail,
    in_session,
    print_json,
    print_table,
    settings_or_exit,
)
from termgate.cli.simulate import report as simulate_report
from termgate.db.monitoring import Finding
from termgate.monitoring.findings import as_record, dismiss_finding, get_finding, list_findings
from termgate.monitoring.policy import load_detector_policies
from termgate.monitoring.runner import PassResult, run_pass
from termgate.registry.clauses import PolicyError

findings = typer.Typer(help="Findings of the detectors (clause 4.1).", no_args_is_help=True)
detect = typer.Typer(
    help="Detection passes over the usage events (clause 4.1).", no_args_is_help=True
)


class State(StrEnum):
    open = "open"
    dismissed = "dismissed"
    actioned = "actioned"


class Severity(StrEnum):
    info = "info"
    minor = "minor"
    major = "major"
    critical = "critical"


@findings.command("list")
def findings_list(
    state: Annotated[State | None, typer.Option(help="only findings in this state")] = None,
    detector: Annotated[str | None, typer.Option(help="only this detector's findings")] = None,
    severity: Annotated[Severity | None, typer.Option(help="only this severity")] = None,
    developer: Annotated[str | None, typer.Option(help="only about this developer (id)")] = None,
    application: Annotated[
        str | None, typer.Option(help="only about this application (id)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON array on stdout")] = False,
) -> None:
    """Findings, the most recently seen first."""

    async def work(session: AsyncSession) -> list[Finding]:
        return await list_findings(
            session,
            state=state.value if state else None,
            detector=detector,
            severity=severity.value if severity else None,
            developer_id=developer,
            application_id=application,
            limit=1000,
        )

    found = in_session(work)
    if as_json:
        print_json([as_record(finding) for finding in found])
        return
    table = Table("id", "detector", "clause", "severity", "state", "party", "last seen", "summary")
    for finding in found:
        party = finding.application_id or finding.key_id or finding.developer_id or ""
        cells = (
            finding.id,
            finding.detector,
            finding.clause,
            finding.severity + (" (simulated)" if finding.simulated else ""),
            finding.state,
            party,
            finding.last_seen.strftime("%Y-%m-%d %H:%M"),
            finding.summary,
        )
        table.add_row(*(escape(cell) for cell in cells))
    if found:
        print_table(table)
    else:
        console.print("no findings")


@findings.command("show")
def findings_show(
    finding_id: Annotated[str, typer.Argument(help="the finding's id (`termgate findings list`)")],
) -> None:
    """One finding with its evidence, as JSON."""

    async def work(session: AsyncSession) -> Finding:
        return await get_finding(session, finding_id)

    print_json(as_record(in_session(work)))


@findings.command("dismiss")
def findings_dismiss(
    finding_id: Annotated[str, typer.Argument(help="the finding's id (`termgate findings list`)")],
    reason: Annotated[str, typer.Option(help="why it is a false positive (recorded)")],
) -> None:
    """Dismiss an open finding as a false positive, with the reason (audited)."""
    now = settings_or_exit().now()

    async def work(session: AsyncSession) -> Finding:
        return await dismiss_finding(session, finding_id, reason=reason, actor=cli_actor(), now=now)

    done = in_session(work)
    console.print(f"finding {done.id} dismissed")


@detect.callback()
def detect_group() -> None:
    """Detection passes over the usage events (clause 4.1)."""


@detect.command("run")
def detect_run(
    at: Annotated[
        datetime | None,
        typer.Option(help="judge as of this UTC moment instead of now (replaying a past window)"),
    ] = None,
) -> None:
    """Run every detector of the policy once now; critical findings in enforce mode suspend."""
    settings = settings_or_exit()
    try:
        policies = load_detector_policies(settings.terms_dir)
    except PolicyError as error:
        fail(str(error))
    moment = settings.now() if at is None else at.replace(tzinfo=at.tzinfo or UTC)

    async def work(session: AsyncSession) -> PassResult:
        return await run_pass(session, policies, moment)

    result = in_session(work)
    if not result.ran:
        console.print("another node is running a detection pass; nothing done")
        return
    console.print(f"{len(result.findings)} finding(s) recorded or updated")
    for action in result.suspended:
        console.print(escape(action))


# Scoring a simulated run (`termgate simulate`) lives with the simulator.
detect.command("report")(simulate_report)
