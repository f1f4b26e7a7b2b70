"""Administrators and their admin API tokens (owners only): change roles, disable and enable,
revoke tokens. The last active owner can be neither demoted nor disabled; every change is in
the audit trail under the signed-in owner's e-mail address."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import RegistryError
from termgate.db.programme import Administrator, AdminRole
from termgate.registry.admin_tokens import list_tokens, revoke_token
from termgate.registry.admins import (
    disable_administrator,
    enable_administrator,
    find_administrator,
    list_administrators,
    parse_role,
    set_role,
)
from termgate.web.console.common import page
from termgate.web.context import checked_form, field, flash, redirect
from termgate.web.pages import console_page

HOME = "/console/administrators"


async def show_administrators(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    return await page(
        request, session, admin, "administrators.html", "administrators",
        administrators=await list_administrators(session), tokens=await list_tokens(session),
        roles=[role.value for role in AdminRole], error=error,
    )  # fmt: skip


async def change_administrator(
    request: Request, session: AsyncSession, admin: Administrator
) -> Response:
    form = await checked_form(request)
    target = await find_administrator(session, request.path_params["administrator_id"])
    action = field(form, "action")
    if action == "role":
        await set_role(session, target, parse_role(field(form, "role")), admin.email)
        done = f"is now {target.role}"
    elif action == "disable":
        await disable_administrator(session, target, field(form, "reason"), admin.email)
        done = "is disabled; their sessions and tokens are refused"
    elif action == "enable":
        await enable_administrator(session, target, field(form, "reason"), admin.email)
        done = "is enabled"
    else:
        raise RegistryError("choose a role, disable or enable")
    flash(request, f"{target.email} {done}.")
    return redirect(HOME)


async def revoke(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    await checked_form(request)
    token = await revoke_token(session, request.path_params["token_id"], admin.email)
    flash(request, f"The token {token.label!r} is revoked.")
    return redirect(HOME)


OWNER = AdminRole.OWNER
routes = [
    Route("/administrators", console_page(show_administrators, least=OWNER)),
    Route(
        "/administrators/{administrator_id}",
        console_page(change_administrator, show_administrators, least=OWNER),
        methods=["POST"],
    ),
    Route(
        "/admin-tokens/{token_id}/revoke",
        console_page(revoke, show_administrators, least=OWNER),
        methods=["POST"],
    ),
]
