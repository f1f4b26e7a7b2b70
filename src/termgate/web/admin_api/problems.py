"""The admin API's refusals: RFC 9457 problems that name the clause the operation serves."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from termgate.problems import PROBLEM_CONTENT_TYPE, Refusal

MISSING_TOKEN = Refusal(401, 40101, "missing-token", "Administrator token required", "3.1")
INVALID_TOKEN = Refusal(401, 40102, "invalid-token", "Administrator token not valid", "3.1")
INVALID_REQUEST = Refusal(400, 40001, "validationError", "The request is not valid", "3.1")
NOT_FOUND = Refusal(404, 40401, "not-found", "No such resource", "3.1")
METHOD_NOT_ALLOWED = Refusal(405, 40501, "method-not-allowed", "Method not allowed here", "3.1")
CONFLICT = Refusal(409, 40901, "conflict", "Not possible in the current state", "3.1")
SERVER_ERROR = Refusal(500, 50001, "server-error", "Internal error", "3.1")


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
