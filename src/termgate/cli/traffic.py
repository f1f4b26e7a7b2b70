"""`termgate maintenance|lifecycle|announce`: the traffic policy from a shell (clauses 8, 4.6,
4.5 a). Times are ISO 8601 with an offset (`2026-03-04T19:00Z`); a bad one is refused with one
line and nothing changes."""

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
    settings_or_exit,
)
from termgate.db.traffic import MaintenanceException, MaintenanceRule
from termgate.governance.announcements import Affected, announce, deprecation_notice
from termgate.governance.inputs import parse_moment
from termgate.governance.lifecycle import LifecycleView, add_brownout, all_lifecycles, parse_state
from termgate.governance.lifecycle import set_lifecycle as set_state
from termgate.governance.maintenance import Window
from termgate.governance.maintenance_calendar import (
    WEEKDAYS,
    add_window,
    cancel_window,
    ensure_default_rule,
    load_calendar,
    move_window,
    notify_due,
    remove_exception,
    set_rule,
    upcoming,
)
from termgate.governance.operations import resolve, split_names

maintenance = typer.Typer(help="The maintenance calendar (clause 8).", no_args_is_help=True)
lifecycle = typer.Typer(
    help="Operation lifecycles: deprecate, sunset, brown-outs, retire (clause 4.6).",
    no_args_is_help=True,
)
Reason = Annotated[str, typer.Option(help="why; developers read it")]
Minutes = Annotated[int | None, typer.Option(help="duration in minutes")]


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else ""


def _calendar_fields(
    rules: list[MaintenanceRule], windows: list[Window], changes: list[MaintenanceException]
) -> dict[str, object]:
    return {
        "weekly": [
            {
                "weekday": rule.weekday,
                "start_time": rule.start_time,
                "time_zone": rule.time_zone,
                "duration_minutes": rule.duration_minutes,
            }
            for rule in rules
        ],
        "windows": [
            {"start": w.start, "end": w.end, "kind": w.kind, "reason": w.reason, "uid": w.uid}
            for w in windows
        ],
        "exceptions": [
            {
                "id": change.id,
                "kind": change.kind.value,
                "original_start": change.original_start,
                "start": change.start,
                "duration_minutes": change.duration_minutes,
                "reason": change.reason,
                "notified_at": change.notified_at,
            }
            for change in changes
        ],
    }


@maintenance.command("show")
def maintenance_show(as_json: JsonOutput = False) -> None:
    """The weekly window, the next twelve weeks of windows (UTC) and the exceptions (in JSON:
    an object of `weekly`, `windows` and `exceptions`)."""
    now = settings_or_exit().now()

    async def work(session: AsyncSession) -> None:
        rules, changes = await load_calendar(session)
        if as_json:
            print_json(_calendar_fields(rules, await upcoming(session, now), changes))
            return
        for rule in rules:
            console.print(
                f"weekly: {WEEKDAYS[rule.weekday]} {rule.start_time} {rule.time_zone}, "
                f"{rule.duration_minutes} min"
            )
        if not rules:
            console.print("no weekly window (`termgate maintenance rule`)")
        table = Table("start (UTC)", "end (UTC)", "kind", "reason", "uid")
        for window in await upcoming(session, now):
            table.add_row(
                _when(window.start), _when(window.end), window.kind, window.reason, window.uid
            )
        print_table(table)
        if changes:
            listing = Table("id", "kind", "weekly window", "start", "min", "reason", "told")
            for change in changes:
                listing.add_row(
                    change.id,
                    change.kind.value,
                    _when(change.original_start),
                    _when(change.start),
                    str(change.duration_minutes or ""),
                    change.reason,
                    _when(change.notified_at),
                )
            print_table(listing)

    in_session(work)


@maintenance.command("rule")
def maintenance_rule(
    weekday: Annotated[int, typer.Option(help="0 Monday … 6 Sunday")] = 2,
    start: Annotated[str, typer.Option(help="local start, HH:MM")] = "20:00",
    duration: Annotated[int, typer.Option(help="minutes")] = 60,
    time_zone: Annotated[str, typer.Option(help="IANA time zone")] = "Europe/Amsterdam",
) -> None:
    """Set the weekly window (default Wednesday 20:00 Europe/Amsterdam, 60 minutes)."""

    actor = cli_actor()

    async def work(session: AsyncSession) -> None:
        await set_rule(
            session,
            weekday=weekday,
            start_time=start,
            duration_minutes=duration,
            time_zone=time_zone,
            actor=actor,
        )

    in_session(work)
    console.print(f"weekly window: {WEEKDAYS[weekday]} {start} {time_zone}, {duration} min")


@maintenance.command("default")
def maintenance_default() -> None:
    """Create the weekly window of clause 8 (Wednesday 20:00 Amsterdam) if there is none."""

    actor = cli_actor()

    async def work(session: AsyncSession) -> None:
        await ensure_default_rule(session, actor)

    in_session(work)
    console.print("the weekly window is in place")


def _told(count: int) -> str:
    return f"; notices to developers queued for {count} window(s)" if count else ""


@maintenance.command("cancel")
def maintenance_cancel(
    original_start: Annotated[str, typer.Argument(help="the weekly window's start, UTC")],
    reason: Reason = "",
) -> None:
    """Cancel one weekly window."""
    settings = settings_or_exit()
    actor = cli_actor()

    async def work(session: AsyncSession) -> MaintenanceException:
        moment = parse_moment(original_start, "original_start")
        return await cancel_window(session, moment, reason, actor, settings.now())

    change = in_session(work)
    console.print(f"cancelled the window of {_when(change.original_start)} UTC: id {change.id}")


@maintenance.command("move")
def maintenance_move(
    original_start: Annotated[str, typer.Argument(help="the weekly window's start, UTC")],
    to: Annotated[str, typer.Option(help="the new start (ISO 8601 with offset)")],
    reason: Reason,
    duration: Minutes = None,
) -> None:
    """Move one weekly window; developers are told when it is near."""
    settings = settings_or_exit()
    actor = cli_actor()

    async def work(session: AsyncSession) -> tuple[MaintenanceException, int]:
        moment = parse_moment(original_start, "original_start")
        now = settings.now()
        change = await move_window(
            session, moment, parse_moment(to, "to"), duration, reason, actor, now
        )
        return change, len(await notify_due(session, now, settings.maintenance_notice_days))

    change, told = in_session(work)
    console.print(f"moved to {_when(change.start)} UTC: id {change.id}{_told(told)}")


@maintenance.command("add")
def maintenance_add(
    start: Annotated[str, typer.Argument(help="start, ISO 8601 with offset")],
    reason: Reason,
    duration: Annotated[int, typer.Option(help="minutes")] = 60,
) -> None:
    """Add an extra window; developers are told when it is near."""
    settings = settings_or_exit()
    actor = cli_actor()

    async def work(session: AsyncSession) -> tuple[MaintenanceException, int]:
        now = settings.now()
        change = await add_window(
            session, parse_moment(start, "start"), duration, reason, actor, now
        )
        return change, len(await notify_due(session, now, settings.maintenance_notice_days))

    change, told = in_session(work)
    console.print(f"extra window at {_when(change.start)} UTC: id {change.id}{_told(told)}")


@maintenance.command("restore")
def maintenance_restore(exception_id: str) -> None:
    """Remove a cancel, move or extra window by its id."""

    actor = cli_actor()

    async def work(session: AsyncSession) -> None:
        await remove_exception(session, exception_id, actor)

    in_session(work)
    console.print(f"exception {exception_id} removed")


@maintenance.command("notify")
def maintenance_notify(
    days: Annotated[int | None, typer.Option(help="notice period in days")] = None,
) -> None:
    """Tell developers of moved or extra windows starting within the notice period (once)."""
    settings = settings_or_exit()
    period = days if days is not None else settings.maintenance_notice_days

    async def work(session: AsyncSession) -> int:
        return len(await notify_due(session, settings.now(), period))

    count = in_session(work)
    console.print(f"notices to developers queued for {count} window(s)")


def _lifecycle_table(rows: list[LifecycleView]) -> Table:
    table = Table("operation", "state", "deprecated", "sunset", "migration", "brown-outs (UTC)")
    for item in rows:
        row = item.row
        table.add_row(
            row.operation_id,
            row.state.value,
            _when(row.deprecated_at),
            _when(row.sunset_at),
            row.migration_url or "",
            " ".join(f"{_when(b.start)}–{b.end:%H:%M}" for b in item.brownouts),
        )
    return table


def _lifecycle_fields(item: LifecycleView) -> dict[str, object]:
    return {
        "operation_id": item.row.operation_id,
        "state": item.row.state.value,
        "deprecated_at": item.row.deprecated_at,
        "sunset_at": item.row.sunset_at,
        "migration_url": item.row.migration_url,
        "brownouts": [{"start": b.start, "end": b.end} for b in item.brownouts],
    }


@lifecycle.command("show")
def lifecycle_show(as_json: JsonOutput = False) -> None:
    """Operations that are deprecated, sunset or retired."""
    rows = in_session(all_lifecycles)
    if as_json:
        print_json([_lifecycle_fields(item) for item in rows])
        return
    print_table(_lifecycle_table(rows))


@lifecycle.command("set")
def lifecycle_set(
    operations: Annotated[str, typer.Argument(help="operationIds, separated by spaces/commas")],
    state: Annotated[str, typer.Argument(help="active, deprecated, sunset or retired")],
    sunset: Annotated[str | None, typer.Option(help="sunset, ISO 8601 with offset")] = None,
    migration_url: Annotated[str | None, typer.Option(help="the migration guide")] = None,
    announce_it: Annotated[
        bool, typer.Option("--announce/--no-announce", help="tell the operations' callers")
    ] = True,
) -> None:
    """Change the lifecycle state of operations (a group when several)."""
    settings = settings_or_exit()
    actor = cli_actor()

    async def work(session: AsyncSession) -> tuple[list[LifecycleView], list[Affected]]:
        now = settings.now()
        chosen = await resolve(settings, split_names(operations))
        target = parse_state(state)
        sunset_at = parse_moment(sunset, "sunset") if sunset else None
        rows = await set_state(
            session,
            [op.operation_id for op in chosen],
            target,
            actor=actor,
            now=now,
            sunset_at=sunset_at,
            migration_url=migration_url,
        )
        told: list[Affected] = []
        if announce_it and target.value == "deprecated":
            title, body = deprecation_notice(chosen, rows[0].sunset_at, rows[0].migration_url)
            _, told = await announce(
                session, title=title, body=body, operations=chosen, actor=actor, now=now
            )
        return await all_lifecycles(session), told

    rows, told = in_session(work)
    print_table(_lifecycle_table(rows))
    if told:
        console.print(
            f"notices queued for {len({item.developer.id for item in told})} affected developer(s)"
        )


@lifecycle.command("brownout")
def lifecycle_brownout(
    operations: Annotated[str, typer.Argument(help="operationIds")],
    start: Annotated[str, typer.Option(help="ISO 8601 with offset")],
    end: Annotated[str, typer.Option(help="ISO 8601 with offset")],
) -> None:
    """Schedule a brown-out (410) of deprecated operations."""
    settings = settings_or_exit()
    actor = cli_actor()

    async def work(session: AsyncSession) -> list[LifecycleView]:
        chosen = await resolve(settings, split_names(operations))
        await add_brownout(
            session,
            [op.operation_id for op in chosen],
            parse_moment(start, "start"),
            parse_moment(end, "end"),
            actor=actor,
            now=settings.now(),
        )
        return await all_lifecycles(session)

    print_table(_lifecycle_table(in_session(work)))


def announce_change(
    operations: Annotated[str, typer.Argument(help="the affected operationIds")],
    title: Annotated[str, typer.Option(help="the announcement's title")],
    body: Annotated[str, typer.Option(help="what changes and when")],
) -> None:
    """Announce a change to the developers whose apps called the operations in 90 days."""
    settings = settings_or_exit()
    actor = cli_actor()

    async def work(session: AsyncSession) -> list[Affected]:
        chosen = await resolve(settings, split_names(operations))
        _, told = await announce(
            session, title=title, body=body, operations=chosen, actor=actor, now=settings.now()
        )
        return told

    told = in_session(work)
    for item in told:
        console.print(
            f"{item.developer.email}: {item.application.name} ({' '.join(item.operations)})"
        )
    console.print(
        f"announced; notices queued for {len({item.developer.id for item in told})} developer(s)"
    )
