"""The admin REST API (bearer admin token): a FastAPI application mounted at /admin/api.

FastAPI routes, validates and converts; the OpenAPI document at /admin/api/openapi.json is
generated from the routes and their models, with every refusal documented as a problem.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from termgate import __version__
from termgate.web.admin_api import (
    administrators,
    cases,
    creation,
    due_process,
    findings,
    parties,
    plans,
    policy,
    products,
    programme,
)
from termgate.web.admin_api.models import Problem
from termgate.web.admin_api.problems import CLAUSE, install

BASE_PATH = "/admin/api"
REF = "#/components/schemas/{model}"
PROBLEM = "application/problem+json"
DESCRIPTION = (
    "The provider's API for the developer programme: developers, applications, production "
    "reviews, subscriptions and keys (created, suspended, revoked), products and plans, terms "
    "versions, the detectors' findings, cases (notice, cure, escalation), verification, "
    "incidents, terminations and the audit trail. Authenticate with "
    "`Authorization: Bearer tga_…` "
    "(`termgate admin token issue EMAIL`). Refusals are RFC 9457 "
    "problem documents with the error `type` and `httpStatus` of the API's error model, a numeric "
    "`code` and the `clause` of the terms they enforce."
)
REFUSALS = {
    "400": "the request does not have the documented shape (see invalid-params)",
    "401": "no administrator token, or one that is unknown, revoked or expired, or whose "
    "administrator is disabled",
}
# Writes need the operator role (a viewer reads only).
WRITE_REFUSAL = "the administrator's role does not allow this: viewers only read"


def _refusals_as_problems(document: dict[str, Any]) -> None:
    """Our refusals are problem documents with status 400, never FastAPI's 422 JSON."""
    problem = {PROBLEM: {"schema": {"$ref": REF.format(model="Problem")}}}
    for path in document["paths"].values():
        for method, operation in path.items():
            operation["description"] = (
                f"{operation['summary']} (clause {operation[CLAUSE]} of the terms)."
            )
            responses = operation["responses"]
            responses.pop("422", None)
            for status, description in REFUSALS.items():
                responses.setdefault(status, {"description": description})
            if method != "get":
                responses.setdefault("403", {"description": WRITE_REFUSAL})
            for status, answer in responses.items():
                if int(status) >= 400:
                    answer["content"] = problem
    schemas = document["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schema = Problem.model_json_schema(by_alias=True, mode="serialization", ref_template=REF)
    schemas.update(schema.pop("$defs", {}))
    schemas["Problem"] = schema


def create_admin_api() -> FastAPI:
    app = FastAPI(
        title="termgate admin API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        servers=[{"url": BASE_PATH}],
    )
    install(app)
    for module in (
        parties,
        creation,
        programme,
        products,
        plans,
        policy,
        administrators,
        cases,
        due_process,
        findings,
    ):
        app.include_router(module.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = FastAPI.openapi(app)
            _refusals_as_problems(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


class AdminApi:
    """The FastAPI app as mounted in the control plane: it shares the control plane's state
    (database, settings), which handlers reach as `request.app.state.web`."""

    def __init__(self) -> None:
        self.app = create_admin_api()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if "app" in scope and hasattr(scope["app"].state, "web"):
            self.app.state.web = scope["app"].state.web
        await self.app(scope, receive, send)
