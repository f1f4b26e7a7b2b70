"""`termgate simulate`: labelled honest and misusing integrations played through the real
gateway against the reference API, a month compressed into minutes by moving termgate's clock.
`termgate detect report` then scores the detectors' findings against the labels."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from termgate.cli.common import console, fail, settings_or_exit
from termgate.settings import VAR_DIR

if TYPE_CHECKING:
    from termgate.simulate.score import Report

LABELS_FILE = VAR_DIR / "simulation-labels.json"


def _database(seed: int, database: str | None) -> str:
    """The given database, or a fresh SQLite file for this seed (a run needs its own)."""
    if database is not None:
        return database
    path = VAR_DIR / f"simulation-{seed}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{path}"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def simulate(
    seed: Annotated[
        int, typer.Option(help="seed of every random choice (sizes, rates, times)")
    ] = 1,
    days: Annotated[int, typer.Option(min=1, max=120, help="simulated days")] = 30,
    scale: Annotated[
        float, typer.Option(min=0.05, max=10.0, help="multiplies the request volumes")
    ] = 1.0,
    copies: Annotated[int, typer.Option(min=1, max=10, help="scenarios of each kind")] = 1,
    employees: Annotated[
        int, typer.Option(min=100, max=20_000, help="employees in the reference API's world")
    ] = 2000,
    database: Annotated[
        str | None,
        typer.Option(help="database URL of the run [default: a new SQLite file in the var folder]"),
    ] = None,
    labels: Annotated[Path, typer.Option(help="where to write the labels")] = LABELS_FILE,
    kind: Annotated[
        list[str] | None,
        typer.Option(help="only scenarios of this kind (repeat for several) [default: all]"),
    ] = None,
    detect_every: Annotated[
        float | None,
        typer.Option(
            min=0.25,
            max=168.0,
            help="simulated hours between detection passes [default: the shortest window of "
            "the detectors in terms/policy.toml]",
        ),
    ] = None,
) -> None:
    """Play labelled honest and misusing integrations through the gateway (simulated time)."""
    import httpx

    from termgate.core import logs
    from termgate.registry.clauses import PolicyError
    from termgate.simulate.detection import (
        detection_pass,
        installed,
        shortest_window,
        simulated_policies,
    )
    from termgate.simulate.runner import RunConfig, run
    from termgate.simulate.scenarios import BUILDERS

    settings = settings_or_exit()
    logs.configure("error", settings.log_format)  # a run's output is its progress and labels
    try:
        policies = simulated_policies(settings.terms_dir)
    except PolicyError as error:
        fail(str(error))
    if detect_every is None:
        detect_every = shortest_window(policies).total_seconds() / 3600
    config = RunConfig(
        seed=seed,
        days=days,
        database_url=_database(seed, database),
        labels_path=labels,
        scale=scale,
        copies=copies,
        employees=employees,
        detect_every_hours=detect_every,
        kinds=tuple(kind or ()),
    )
    if unknown := sorted(set(config.kinds) - set(BUILDERS)):
        fail(f"--kind: no scenario kind {', '.join(unknown)} (known: {', '.join(BUILDERS)})", 2)
    signal.signal(signal.SIGTERM, _interrupt)  # stopped like Ctrl-C: the children stop too
    try:
        result = asyncio.run(
            run(config, detection_pass(policies), console.print, installed(policies))
        )
    except KeyboardInterrupt:
        fail("the simulation was interrupted; its labels were not written", 130)
    except (OSError, RuntimeError, httpx.HTTPError) as error:
        fail(f"the simulation stopped: {type(error).__name__}: {error}")
    console.print(
        f"{len(result.parties)} scenarios over {days} simulated days in {result.wall_seconds} s, "
        f"{sum(p.requests for p in result.parties)} requests, "
        f"{result.detection_passes} detection passes; labels in {labels}"
    )
    console.print("score the findings with: termgate detect report" + (
        f" --labels {labels}" if labels != LABELS_FILE else ""
    ))  # fmt: skip


def report(
    labels: Annotated[
        list[Path] | None,
        typer.Option(
            help="labels written by `termgate simulate`; repeat for several runs (seeds), "
            "scored together [default: var/simulation-labels.json]"
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(help="database URL [default: the one each run used]"),
    ] = None,
) -> None:
    """Score simulated runs: precision, recall, time to detection per detector."""
    from rich.table import Table

    from termgate.cli.common import print_table
    from termgate.db.engine import create_engine, session_factory
    from termgate.simulate.labels import LabelsError, RunLabels
    from termgate.simulate.report import HEADERS, report_of_run, table_rows
    from termgate.simulate.score import combine

    settings_or_exit()
    paths = labels or [LABELS_FILE]
    try:
        runs = [RunLabels.read(path) for path in paths]
    except LabelsError as error:
        fail(str(error))

    async def scored(run: RunLabels) -> Report:
        engine = create_engine(database or run.database_url)
        try:
            async with session_factory(engine)() as session:
                return await report_of_run(session, run)
        finally:
            await engine.dispose()

    signal.signal(signal.SIGTERM, _interrupt)  # stopped like Ctrl-C: the children stop too
    results = []
    for path, run in zip(paths, runs, strict=True):
        try:
            results.append(asyncio.run(scored(run)))
        except Exception as error:  # the driver's many error types: one line, never a traceback
            fail(f"cannot read the findings of the run {path}: {str(error).splitlines()[0]}")
    tags = [f"seed {run.seed}: " for run in runs]
    result = combine(results, tags) if len(results) > 1 else results[0]
    seeds = ", ".join(str(run.seed) for run in runs)
    title = (
        f"seed {runs[0].seed}, {runs[0].days} simulated days"
        if len(runs) == 1
        else f"{len(runs)} runs (seeds {seeds}), {sum(r.days for r in runs)} simulated days"
    )
    table = Table(*HEADERS, title=title)
    for row in table_rows(result):
        table.add_row(*row)
    print_table(table)
    _print_outcome(result)


def _print_outcome(result: Report) -> None:
    for detector in result.not_run:
        console.print(f"not installed in the run, so not scored: {detector}")
    for scenario, detector in result.missed:
        console.print(f"missed: {scenario} ({detector})")
    for scenario, finding in result.false_alarms:
        console.print(f"false alarm: {scenario}: {finding.detector} {finding.severity}: "
                      f"{finding.summary}")  # fmt: skip
    for scenario, finding in result.honest_critical:
        console.print(f"CRITICAL finding about honest {scenario}: {finding.summary}")
    console.print(f"honest parties with a critical finding: {len(result.honest_critical)}")
    if result.honest_critical:
        raise typer.Exit(1)
