"""The admin API's refusals: RFC 9457 problems that name the clause the operation serves.

Every route carries its clause (`x-clause`, see `clause`); the exception handlers here turn
FastAPI's validation errors, Starlette's 404/405, the registry's refusals and our own into
problem documents with that clause, so no refusal is FastAPI's default JSON or a 422.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from termgate.core.errors import NotFoundError, RegistryError
from termgate.governance.errors import PolicyInputError
from termgate.problems import ADMIN_CONFLICT as CONFLICT
from termgate.problems import ADMIN_FORBIDDEN as FORBIDDEN
from termgate.problems import ADMIN_INVALID_REQUEST as INVALID_REQUEST
from termgate.problems import ADMIN_METHOD_NOT_ALLOWED as METHOD_NOT_ALLOWED
from termgate.problems import ADMIN_NOT_FOUND as NOT_FOUND
from termgate.problems import ADMIN_SERVER_ERROR as SERVER_ERROR
from termgate.problems import PROBLEM_CONTENT_TYPE, Refusal
from termgate.web.request_log import fault_handlers

log = logging.getLogger(__name__)

CLAUSE = "x-clause"
Documented = dict[int | str, dict[str, Any]]
NOT_FOUND_ID: Documented = {404: {"description": "no resource with that id"}}
REFUSED: Documented = {
    **NOT_FOUND_ID,
    409: {"description": "refused in the current state; nothing changed"},
}


def clause(clause_id: str) -> dict[str, Any]:
    """A route's `openapi_extra`: the clause of the terms its refusals enforce."""
    return {CLAUSE: clause_id}


class InvalidRequestError(Exception):
    """Some part of the request (body, query or path) does not have the documented shape."""

    def __init__(self, params: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{p['name']}: {p['reason']}" for p in params))
        self.params = params


class OperationFailedError(Exception):
    """The operation raised something unforeseen; its transaction was rolled back."""


class UnauthorisedError(Exception):
    """No administrator token, or one that is unknown or revoked."""

    def __init__(self, refusal: Refusal, detail: str, challenge: str) -> None:
        super().__init__(detail)
        self.refusal = refusal
        self.challenge = challenge


class ForbiddenError(Exception):
    """The administrator's role does not include what the operation needs."""


def problem(
    refusal: Refusal,
    detail: str,
    *,
    clause: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    kind = replace(refusal, clause=clause) if clause else refusal
    return Response(
        kind.render(detail, instance=instance, **extra),
        status_code=kind.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


def _clause(request: Request) -> str | None:
    route = request.scope.get("route")
    extra = getattr(route, "openapi_extra", None) or {}
    found = extra.get(CLAUSE)
    return found if isinstance(found, str) else None


def _refuse(request: Request, refusal: Refusal, detail: str, **extra: Any) -> Response:
    return problem(refusal, detail, clause=_clause(request), instance=request.url.path, **extra)


def _params(errors: Sequence[Any]) -> list[dict[str, str]]:
    params = []
    for error in errors:
        where = [str(part) for part in error.get("loc", ())]
        if error.get("type") == "json_invalid":  # its loc holds the offset, not a member
            where = where[:1]
        name = ".".join(where[1:]) or (where[0] if where else "body")
        params.append({"name": name, "reason": str(error.get("msg", "not valid"))})
    return params or [{"name": "body", "reason": "not valid"}]


async def _invalid_request(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError | InvalidRequestError | PolicyInputError)
    if isinstance(error, RequestValidationError):
        params = _params(error.errors())
    elif isinstance(error, PolicyInputError):
        params = [{"name": error.field, "reason": str(error)}]
    else:
        params = error.params
    detail = "; ".join(f"{p['name']}: {p['reason']}" for p in params)
    return _refuse(request, INVALID_REQUEST, detail, invalid_params=params)


async def _unauthorised(request: Request, error: Exception) -> Response:
    assert isinstance(error, UnauthorisedError)
    return problem(
        error.refusal,
        str(error),
        clause=_clause(request),
        headers={"www-authenticate": error.challenge},
    )


async def _forbidden(request: Request, error: Exception) -> Response:
    return _refuse(request, FORBIDDEN, str(error))


async def _not_found(request: Request, error: Exception) -> Response:
    return _refuse(request, NOT_FOUND, str(error))


async def _conflict(request: Request, error: Exception) -> Response:
    return _refuse(request, CONFLICT, str(error))


async def _http(request: Request, error: Exception) -> Response:
    """Starlette's own refusals: no route (404), a known path with another method (405), a body
    that cannot be read (400)."""
    assert isinstance(error, HTTPException)
    if error.status_code == 405:
        allow = (error.headers or {}).get("Allow", "")
        detail = f"{request.method} is not allowed here; use {allow}"
        return problem(METHOD_NOT_ALLOWED, detail, headers={"allow": allow})
    if error.status_code == 404:
        return problem(NOT_FOUND, f"no admin API resource at {request.url.path}")
    params = [{"name": "body", "reason": str(error.detail)}]
    return _refuse(request, INVALID_REQUEST, str(error.detail), invalid_params=params)


async def _server_error(request: Request, error: Exception) -> Response:
    log.error("admin API %s %s failed", request.method, request.url.path, exc_info=error)
    return problem(SERVER_ERROR, "the operation failed; it was not carried out")


def install(app: FastAPI) -> None:
    """Every refusal of the admin API is a problem document; none is FastAPI's default."""
    app.add_exception_handler(RequestValidationError, _invalid_request)
    for fault, handler in fault_handlers().items():  # the database down: 503, one log line
        app.add_exception_handler(fault, handler)
    app.add_exception_handler(InvalidRequestError, _invalid_request)
    app.add_exception_handler(PolicyInputError, _invalid_request)
    app.add_exception_handler(UnauthorisedError, _unauthorised)
    app.add_exception_handler(ForbiddenError, _forbidden)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(RegistryError, _conflict)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(OperationFailedError, _server_error)
    app.add_exception_handler(ResponseValidationError, _server_error)
