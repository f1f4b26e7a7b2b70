"""One route table, two products: the Starlette routes and the OpenAPI document.

An `Operation` names its method, path, models and clause; `endpoint` wraps its handler with the
bearer-token check, body and query validation, one transaction, and problem documents for every
refusal (400 invalid input, 401 no or bad token, 404 unknown id, 409 refused by the registry).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.programme import Administrator
from termgate.registry.admins import ADMIN_TOKEN_PREFIX, administrator_for_token
from termgate.settings import Settings
from termgate.web.admin_api.problems import (
    CONFLICT,
    INVALID_REQUEST,
    INVALID_TOKEN,
    METHOD_NOT_ALLOWED,
    MISSING_TOKEN,
    NOT_FOUND,
    SERVER_ERROR,
    InvalidRequestError,
    problem,
)
from termgate.web.context import unit_of_work, web

log = logging.getLogger(__name__)
PARAMETER = re.compile(r"{(\w+)}")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Call:
    """What a handler gets: the transaction, the administrator, and the validated request."""

    session: AsyncSession
    administrator: Administrator
    settings: Settings
    path: dict[str, str]
    query: BaseModel | None
    body: BaseModel | None

    @property
    def actor(self) -> str:
        return self.administrator.email

    def payload(self, kind: type[M]) -> M:
        assert isinstance(self.body, kind)
        return self.body

    def filters(self, kind: type[M]) -> M:
        assert isinstance(self.query, kind)
        return self.query


Handler = Callable[[Call], Awaitable[BaseModel]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    clause: str
    handler: Handler
    response: type[BaseModel]
    status: int = 200
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    location: Callable[[BaseModel], str] | None = None

    @property
    def path_parameters(self) -> list[str]:
        return PARAMETER.findall(self.path)


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _path(request: Request, operation: Operation) -> dict[str, str]:
    values = {name: str(request.path_params[name]) for name in operation.path_parameters}
    for name, value in values.items():
        if "\x00" in value or len(value) > 200:
            raise NotFoundError(f"no resource with that {name}")
    return values


def _query(request: Request, operation: Operation) -> BaseModel | None:
    if operation.query is None:
        return None
    try:
        return operation.query.model_validate(dict(request.query_params))
    except ValidationError as error:
        raise InvalidRequestError.from_validation(error, "query") from None


async def _body(request: Request, operation: Operation) -> BaseModel | None:
    if operation.body is None:
        return None
    raw = await request.body()
    try:
        if not raw.strip() and not operation.body_required:
            return operation.body.model_validate({})
        return operation.body.model_validate_json(raw)
    except ValidationError as error:
        raise InvalidRequestError.from_validation(error, "body") from None


def _unauthorised(token: str | None, clause: str) -> Response:
    challenge = {"www-authenticate": 'Bearer realm="termgate-admin"'}
    if token is None:
        return problem(
            MISSING_TOKEN,
            f"send Authorization: Bearer {ADMIN_TOKEN_PREFIX}… (`termgate admin token EMAIL`)",
            clause=clause,
            headers=challenge,
        )
    challenge["www-authenticate"] += ', error="invalid_token"'
    return problem(
        INVALID_TOKEN, "the token is unknown or revoked", clause=clause, headers=challenge
    )


def endpoint(operation: Operation) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        token = _bearer(request)
        instance = request.url.path
        try:
            async with unit_of_work(request) as session:
                admin = await administrator_for_token(session, token) if token else None
                if admin is None:
                    return _unauthorised(token, operation.clause)
                call = Call(
                    session,
                    admin,
                    web(request).settings,
                    _path(request, operation),
                    _query(request, operation),
                    await _body(request, operation),
                )
                result = await operation.handler(call)
        except InvalidRequestError as error:
            return problem(
                INVALID_REQUEST,
                str(error),
                clause=operation.clause,
                instance=instance,
                invalid_params=error.params,
            )
        except NotFoundError as error:
            return problem(NOT_FOUND, str(error), clause=operation.clause, instance=instance)
        except RegistryError as error:
            return problem(CONFLICT, str(error), clause=operation.clause, instance=instance)
        except Exception:
            log.exception("admin API %s %s failed", operation.method, instance)
            return problem(SERVER_ERROR, "the operation failed; it was not carried out")
        headers = {"location": operation.location(result)} if operation.location else None
        return Response(
            result.model_dump_json(by_alias=True),
            status_code=operation.status,
            media_type="application/json",
            headers=headers,
        )

    handle.__name__ = operation.operation_id
    return handle


def fallback(operations: Sequence[Operation]) -> BaseRoute:
    """Unknown paths get a 404 problem and known paths with the wrong method a 405, not HTML."""
    templates = [
        (re.compile("^" + PARAMETER.sub(r"[^/]+", op.path) + "$"), op) for op in operations
    ]

    async def unknown(request: Request) -> Response:
        path = "/" + str(request.path_params["rest"])
        allowed = sorted({op.method for pattern, op in templates if pattern.match(path)})
        if allowed:
            return problem(
                METHOD_NOT_ALLOWED,
                f"{request.method} is not allowed here; use {', '.join(allowed)}",
                headers={"allow": ", ".join(allowed)},
            )
        return problem(NOT_FOUND, f"no admin API resource at {request.url.path}")

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return Route("/{rest:path}", unknown, methods=methods)


def build_routes(operations: Sequence[Operation]) -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Route(op.path, endpoint(op), methods=[op.method], name=op.operation_id) for op in operations
    ]
    return routes
