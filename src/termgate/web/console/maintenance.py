"""The maintenance calendar (clause 8): the weekly rule, the coming windows, and cancelling,
moving or adding a window. Developers are told of a moved or extra window when it is near."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.db.programme import Administrator
from termgate.governance.errors import PolicyInputError
from termgate.governance.inputs import AMSTERDAM, parse_minutes, parse_moment
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
from termgate.strict import whole_number
from termgate.web.console.common import page
from termgate.web.context import checked_form, field, flash, redirect, web
from termgate.web.pages import console_page

HOME = "/console/maintenance"


async def show_maintenance(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    settings = web(request).settings
    now = settings.now()
    rules, changes = await load_calendar(session)
    return await page(
        request,
        session,
        admin,
        "maintenance.html",
        "maintenance",
        rule=rules[0] if rules else None,
        weekdays=WEEKDAYS,
        windows=await upcoming(session, now),
        changes=[change for change in changes if change.start is None or change.start > now]
        + [change for change in changes if change.start is not None and change.start <= now],
        now=now,
        zone=AMSTERDAM,
        notice_days=settings.maintenance_notice_days,
        error=error,
    )


async def _notify(request: Request, session: AsyncSession) -> str:
    settings = web(request).settings
    told = await notify_due(session, settings.now(), settings.maintenance_notice_days)
    return " Notices to developers are queued." if told else ""


async def change(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    now = web(request).settings.now()
    action = field(form, "action")
    if action == "rule":
        weekday = whole_number(field(form, "weekday"))
        if weekday is None:
            raise PolicyInputError("weekday", "choose a weekday")
        await set_rule(
            session,
            weekday=weekday,
            start_time=field(form, "start_time"),
            duration_minutes=parse_minutes(field(form, "weekly_duration")),
            time_zone=field(form, "time_zone") or "Europe/Amsterdam",
            actor=admin.email,
        )
        flash(request, "The weekly window is changed; every gateway applies it within a second.")
    elif action == "cancel":
        original = parse_moment(field(form, "original_start"), "original_start")
        await cancel_window(session, original, field(form, "reason"), admin.email, now)
        flash(request, "The window is cancelled.")
    elif action == "move":
        original = parse_moment(field(form, "original_start"), "original_start")
        moved = await move_window(
            session,
            original,
            parse_moment(field(form, "start"), "start", AMSTERDAM),
            parse_minutes(field(form, "duration")) if field(form, "duration") else None,
            field(form, "reason"),
            admin.email,
            now,
        )
        flash(
            request,
            f"The window is moved to {moved.start:%Y-%m-%d %H:%M} UTC."
            + await _notify(request, session),
        )
    elif action == "extra":
        added = await add_window(
            session,
            parse_moment(field(form, "start"), "start", AMSTERDAM),
            parse_minutes(field(form, "duration")),
            field(form, "reason"),
            admin.email,
            now,
        )
        flash(
            request,
            f"An extra window at {added.start:%Y-%m-%d %H:%M} UTC is planned."
            + await _notify(request, session),
        )
    elif action == "restore":
        await remove_exception(session, field(form, "exception_id"), admin.email)
        flash(request, "The exception is removed; the weekly rule applies again.")
    elif action == "default":
        await ensure_default_rule(session, admin.email)
        flash(request, "The weekly window is Wednesday 20:00 Europe/Amsterdam.")
    else:
        raise PolicyInputError("action", "choose what to change")
    return redirect(HOME)


async def maintenance_page(
    request: Request, session: AsyncSession, admin: Administrator
) -> Response:
    if request.method == "POST":
        return await change(request, session, admin)
    return await show_maintenance(request, session, admin)


routes = [
    Route(
        "/maintenance", console_page(maintenance_page, show_maintenance), methods=["GET", "POST"]
    ),
]
