"""The admin API's refusals: RFC 9457 problems that name the clause the operation serves."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from termgate.problems import ADMIN_CONFLICT as CONFLICT
from termgate.problems import ADMIN_INVALID_REQUEST as INVALID_REQUEST
from termgate.problems import ADMIN_INVALID_TOKEN as INVALID_TOKEN
from termgate.problems import ADMIN_METHOD_NOT_ALLOWED as METHOD_NOT_ALLOWED
from termgate.problems import ADMIN_MISSING_TOKEN as MISSING_TOKEN
from termgate.problems import ADMIN_NOT_FOUND as NOT_FOUND
from termgate.problems import ADMIN_SERVER_ERROR as SERVER_ERROR
from termgate.problems import PROBLEM_CONTENT_TYPE, Refusal

__all__ = [
    "CONFLICT",
    "INVALID_REQUEST",
    "INVALID_TOKEN",
    "METHOD_NOT_ALLOWED",
    "MISSING_TOKEN",
    "NOT_FOUND",
    "SERVER_ERROR",
    "InvalidRequestError",
    "problem",
]


class InvalidRequestError(Exception):
    """Some part of the request (body, query or path) does not have the documented shape."""

    def __init__(self, params: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{p['name']}: {p['reason']}" for p in params))
        self.params = params

    @classmethod
    def from_validation(cls, error: ValidationError, where: str) -> InvalidRequestError:
        params = [
            {
                "name": ".".join(str(part) for part in problem["loc"]) or where,
                "reason": problem["msg"],
            }
            for problem in error.errors(include_url=False, include_input=False)
        ]
        return cls(params or [{"name": where, "reason": "not valid"}])


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
