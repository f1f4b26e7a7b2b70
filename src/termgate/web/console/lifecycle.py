"""The API lifecycle (clause 4.6) and change announcements (4.5 a): deprecate, set a sunset,
schedule brown-outs, retire; announce a change to the developers whose applications called the
operations in the last 90 days, and see who was told."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.db.programme import Administrator
from termgate.db.traffic import LifecycleState
from termgate.governance.announcements import announce, deprecation_notice, published
from termgate.governance.errors import PolicyConflictError, PolicyInputError
from termgate.governance.inputs import AMSTERDAM, parse_moment
from termgate.governance.lifecycle import (
    add_brownout,
    all_lifecycles,
    parse_state,
    remove_brownout,
    set_lifecycle,
)
from termgate.governance.operations import api_operations, resolve, split_names
from termgate.web.console.common import page
from termgate.web.context import checked_form, field, flash, redirect, web
from termgate.web.pages import console_page

HOME = "/console/lifecycle"


async def show_lifecycle(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    try:
        operations = list((await api_operations(web(request).settings)).values())
        unreadable = ""
    except PolicyConflictError as problem:
        operations, unreadable = [], str(problem)
    return await page(
        request,
        session,
        admin,
        "lifecycle.html",
        "lifecycle",
        lifecycles=await all_lifecycles(session),
        announcements=await published(session),
        operations=operations,
        unreadable=unreadable,
        states=[state.value for state in LifecycleState],
        zone=AMSTERDAM,
        error=error,
    )


async def _state(request: Request, session: AsyncSession, admin: Administrator) -> str:
    form = await checked_form(request)
    settings = web(request).settings
    now = settings.now()
    operations = await resolve(settings, split_names(field(form, "operations")))
    state = parse_state(field(form, "state"))
    sunset_text = field(form, "sunset_at")
    sunset = parse_moment(sunset_text, "sunset_at", AMSTERDAM) if sunset_text else None
    rows = await set_lifecycle(
        session,
        [op.operation_id for op in operations],
        state,
        actor=admin.email,
        now=now,
        sunset_at=sunset,
        migration_url=field(form, "migration_url") or None,
    )
    message = f"{', '.join(row.operation_id for row in rows)}: {state.value}."
    if state is LifecycleState.DEPRECATED and field(form, "announce"):
        title, body = deprecation_notice(operations, rows[0].sunset_at, rows[0].migration_url)
        _, told = await announce(
            session, title=title, body=body, operations=operations, actor=admin.email, now=now
        )
        message += f" {len({item.developer.id for item in told})} affected developer(s) told."
    return message


async def _brownout(request: Request, session: AsyncSession, admin: Administrator) -> str:
    form = await checked_form(request)
    settings = web(request).settings
    operations = await resolve(settings, split_names(field(form, "operations")))
    await add_brownout(
        session,
        [op.operation_id for op in operations],
        parse_moment(field(form, "start"), "start", AMSTERDAM),
        parse_moment(field(form, "end"), "end", AMSTERDAM),
        actor=admin.email,
        now=settings.now(),
    )
    return "The brown-out is scheduled; the operation answers 410 during it."


async def _announce(request: Request, session: AsyncSession, admin: Administrator) -> str:
    form = await checked_form(request)
    settings = web(request).settings
    operations = await resolve(settings, split_names(field(form, "operations")))
    _, told = await announce(
        session,
        title=field(form, "title"),
        body=str(form.get("body", "")).replace("\r\n", "\n"),
        operations=operations,
        actor=admin.email,
        now=settings.now(),
    )
    developers = len({item.developer.id for item in told})
    return f"Announced to {developers} developer(s) with {len(told)} affected application(s)."


async def change(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    action = request.path_params["action"]
    if action == "state":
        message = await _state(request, session, admin)
    elif action == "brownout":
        message = await _brownout(request, session, admin)
    elif action == "announce":
        message = await _announce(request, session, admin)
    elif action == "remove-brownout":
        form = await checked_form(request)
        await remove_brownout(session, field(form, "brownout_id"), admin.email)
        message = "The brown-out is removed."
    else:
        raise PolicyInputError("action", "no such change")
    flash(request, message)
    return redirect(HOME)


routes = [
    Route("/lifecycle", console_page(show_lifecycle), methods=["GET"]),
    Route("/lifecycle/{action}", console_page(change, show_lifecycle), methods=["POST"]),
]
