"""The authorization endpoint as people see it: sign in, then the consent screen (clause 3.3 a).

A checked request is kept in the signed session under a random interaction id, so the sign-in and
the consent form carry only that id, and a pushed request's one-time request_uri is spent once.
Each step checks the request again: an application suspended meanwhile gets no code.
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from termgate.core.errors import RegistryError
from termgate.db.models import Developer, Environment
from termgate.db.oauth import EndUser
from termgate.identity.consents import (
    CONSENT_TEXT,
    CONSENT_TEXT_VERSION,
    ConsentDebtorsError,
    UsersServedCapError,
    grant_consent,
)
from termgate.identity.oauth.authorization import (
    AuthorizationRefusedError,
    AuthorizationRequest,
    answer_authorization,
    check_authorization,
)
from termgate.identity.oauth.models import Grantee
from termgate.identity.oauth.pushed import take_pushed_request
from termgate.identity.oauth.runner import run_authorization_server
from termgate.identity.tokens import open_family
from termgate.registry.applications import USE_CASE_CATEGORIES
from termgate.web.context import (
    checked_form,
    client_ip,
    field,
    render,
    unit_of_work,
    user_agent,
    web,
)
from termgate.web.end_user.common import (
    login_redirect,
    refused_page,
    scope_words,
    signed_in_end_user,
)
from termgate.web.end_user.debtors import debtor_names

PENDING_KEY = "oauth_pending"
PENDING_LIMIT = 3
PENDING_LIFETIME = 15 * 60
Parameters = list[tuple[str, str]]
SANDBOX_ONLY = (
    "This application is still in the sandbox: only sandbox logins can connect it (clause 3.2). "
    "Your login belongs to production customer accounts, so nothing was shared."
)


def _remember(request: Request, parameters: Parameters) -> str:
    interaction = secrets.token_urlsafe(12)
    pending: dict[str, Any] = dict(request.session.get(PENDING_KEY) or {})
    pending[interaction] = {"parameters": parameters, "at": time.time()}
    newest = sorted(pending.items(), key=lambda item: item[1]["at"])[-PENDING_LIMIT:]
    request.session[PENDING_KEY] = dict(newest)
    return interaction


def _recall(request: Request, interaction: str) -> Parameters | None:
    entry = (request.session.get(PENDING_KEY) or {}).get(interaction)
    if not isinstance(entry, dict) or entry.get("at", 0) + PENDING_LIFETIME < time.time():
        return None
    return [(str(name), str(value)) for name, value in entry["parameters"]]


def pending_client_id(request: Request, next_path: str) -> str | None:
    """The client_id of the authorization a sign-in page was opened for (its `next` names a
    remembered interaction), so a failed sign-in can be told to the probing detector."""
    interaction = parse_qs(urlsplit(next_path).query).get("interaction", [""])[0]
    parameters = _recall(request, interaction) if interaction else None
    return next((v[:32] for name, v in parameters or [] if name == "client_id"), None)


def _forget(request: Request, interaction: str) -> None:
    pending = dict(request.session.get(PENDING_KEY) or {})
    pending.pop(interaction, None)
    request.session[PENDING_KEY] = pending


async def _parameters(request: Request, session: AsyncSession) -> Parameters | str:
    """The request's parameters, from the session, a pushed request, or the query; else why not."""
    interaction = request.query_params.get("interaction")
    if interaction:
        remembered = _recall(request, interaction)
        return remembered if remembered is not None else "This sign-in request has expired."
    parameters = list(request.query_params.multi_items())
    request_uri = request.query_params.get("request_uri")
    if request_uri is None:
        return parameters
    client_id = request.query_params.get("client_id", "")
    now = web(request).settings.now()
    pushed = await take_pushed_request(session, client_id, request_uri, now)
    return pushed if pushed is not None else "The request_uri is unknown, expired or was used."


async def _check(
    request: Request, session: AsyncSession, parameters: Parameters
) -> AuthorizationRequest:
    state = web(request)
    return await run_authorization_server(
        session,
        state.settings,
        state.scopes,
        lambda server: check_authorization(server, parameters),
    )


def _refusal_response(request: Request, refused: AuthorizationRefusedError) -> Response:
    if refused.redirect is not None:
        return RedirectResponse(refused.redirect, status_code=303)
    return refused_page(request, f"The application's request cannot be used: {refused}")


def _may_connect(checked: AuthorizationRequest, end_user: EndUser) -> bool:
    sandbox_app = checked.client.application.environment is Environment.SANDBOX
    return not sandbox_app or end_user.environment is Environment.SANDBOX


async def authorize(request: Request) -> Response:
    async with unit_of_work(request) as session:
        parameters = await _parameters(request, session)
        if isinstance(parameters, str):
            return refused_page(
                request, f"{parameters} Go back to the application and start again."
            )
        try:
            checked = await _check(request, session, parameters)
        except AuthorizationRefusedError as refused:
            return _refusal_response(request, refused)
        interaction = request.query_params.get("interaction") or _remember(request, parameters)
        end_user = await signed_in_end_user(request, session)
        if end_user is None:
            return login_redirect(f"/connect/authorize?interaction={interaction}")
        if not _may_connect(checked, end_user):
            return refused_page(request, SANDBOX_ONLY, status_code=403)
        return await _consent_page(request, session, checked, end_user, interaction)


async def _consent_page(
    request: Request,
    session: AsyncSession,
    checked: AuthorizationRequest,
    end_user: EndUser,
    interaction: str,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    application = checked.client.application
    developer = await session.get(Developer, application.developer_id)
    names = await debtor_names(web(request).settings, end_user, end_user.debtors)
    return render(
        request,
        "identity/consent.html",
        status_code=status_code,
        application=application,
        developer=developer,
        category=USE_CASE_CATEGORIES.get(application.use_case_category or "", ""),
        scopes=scope_words(request, checked.scope),
        debtors=list(names.items()),
        end_user=end_user,
        interaction=interaction,
        consent_text=CONSENT_TEXT.format(application=application.name),
        consent_version=CONSENT_TEXT_VERSION,
        error=error,
    )


async def decide(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except RegistryError as refusal:
        return refused_page(request, str(refusal))
    interaction = field(form, "interaction")
    parameters = _recall(request, interaction)
    if parameters is None:
        return refused_page(request, "This sign-in request has expired. Start again.")
    state = web(request)
    async with unit_of_work(request) as session:
        end_user = await signed_in_end_user(request, session)
        if end_user is None:
            return login_redirect(f"/connect/authorize?interaction={interaction}")
        try:
            checked = await _check(request, session, parameters)
        except AuthorizationRefusedError as refused:
            return _refusal_response(request, refused)
        if not _may_connect(checked, end_user):
            return refused_page(request, SANDBOX_ONLY, status_code=403)
        grantee = None
        if field(form, "decision") == "allow":
            debtors = [value for value in form.getlist("debtor") if isinstance(value, str)]
            if not debtors:
                message = "Tick at least one customer account the application may read."
                return await _consent_page(
                    request, session, checked, end_user, interaction, message, 400
                )
            try:
                grantee = await _grant(request, session, checked, end_user, debtors)
            except ConsentDebtorsError as refused:  # clause 3.3 a: never dropped or widened
                message = f"Nothing was shared: {refused}."
                return await _consent_page(
                    request, session, checked, end_user, interaction, message, 400
                )
            except UsersServedCapError as capped:  # clause 4.4: users served
                return await _consent_page(
                    request, session, checked, end_user, interaction, str(capped), 403
                )
        try:
            answer = await run_authorization_server(
                session,
                state.settings,
                state.scopes,
                lambda server: answer_authorization(server, parameters, grantee),
            )
        except AuthorizationRefusedError as refused:
            return _refusal_response(request, refused)
    _forget(request, interaction)
    return RedirectResponse(answer.location or "/connect/apps", status_code=303)


async def _grant(
    request: Request,
    session: AsyncSession,
    checked: AuthorizationRequest,
    end_user: EndUser,
    debtors: list[str],
) -> Grantee:
    application = checked.client.application
    now = web(request).settings.now()
    consent = await grant_consent(
        session,
        end_user=end_user,
        application=application,
        scopes=checked.scope,
        debtors=debtors,
        ip=client_ip(request),
        user_agent=user_agent(request),
        now=now,
    )
    return Grantee(end_user, consent, await open_family(session, consent, now))
