"""Suspend, reinstate (clause 3.1) and revoke, with a required reason, from the detail pages.

A refused change (no reason, already suspended, revoked) shows its message on the page the form
was on; the rollback means nothing changed and no notice went out.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import Application, Developer, Status, Subscription, SubscriptionKey
from termgate.db.programme import Administrator
from termgate.registry.keys import revoke_key
from termgate.registry.status import MODELS, Party, change_status, describe, find_party
from termgate.web.console.applications import show_application
from termgate.web.console.developers import show_developer
from termgate.web.context import checked_form, field, flash, redirect, render
from termgate.web.pages import console_page

ACTIONS = {"suspend": Status.SUSPENDED, "reinstate": Status.ACTIVE}


async def _party(request: Request, session: AsyncSession) -> Party:
    kind = request.path_params["kind"]
    if kind not in MODELS:
        raise NotFoundError(f"nothing of kind {kind!r} can be suspended")
    return await find_party(session, kind, request.path_params["party_id"])


async def _application_of(session: AsyncSession, party: Party) -> Application | None:
    if isinstance(party, SubscriptionKey):
        party = await session.get_one(Subscription, party.subscription_id)
    if isinstance(party, Subscription):
        party = await session.get_one(Application, party.application_id)
    return party if isinstance(party, Application) else None


async def _home(session: AsyncSession, party: Party) -> str:
    if isinstance(party, Developer):
        return f"/console/developers/{party.id}"
    application = await _application_of(session, party)
    assert application is not None
    return f"/console/applications/{application.id}"


async def change(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    party = await _party(request, session)
    action = field(form, "action")
    reason = field(form, "reason")
    kind = request.path_params["kind"]
    if action == "revoke":
        if kind != "key":
            raise RegistryError("only keys can be revoked here")
        if not reason:
            raise RegistryError("give a reason; it is recorded in the audit trail")
        await revoke_key(session, party.id, reason, admin.email)
    elif action in ACTIONS:
        await change_status(session, kind, party.id, ACTIONS[action], reason, admin.email)
    else:
        raise RegistryError("choose suspend, reinstate or revoke")
    done = {"suspend": "suspended", "reinstate": "reinstated", "revoke": "revoked"}[action]
    flash(request, f"The {describe(party)} is {done}; the reason is in the audit trail.")
    return redirect(await _home(session, party))


async def refused(
    request: Request, session: AsyncSession, admin: Administrator, error: str
) -> Response:
    """The page the form was on, with the refusal next to the form."""
    try:
        party = await _party(request, session)
    except RegistryError:
        return render(request, "refused.html", status_code=400, message=error, area="console")
    if party.status is Status.REVOKED:
        request.path_params["party_id"] = ""
    if isinstance(party, Developer):
        request.path_params["developer_id"] = party.id
        return await show_developer(request, session, admin, error)
    application = await _application_of(session, party)
    assert application is not None
    request.path_params["application_id"] = application.id
    return await show_application(request, session, admin, error)


routes = [
    Route("/status/{kind}/{party_id}", console_page(change, refused), methods=["POST"]),
]
