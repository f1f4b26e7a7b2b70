"""RFC 9457 problem documents with the wire contract's numeric `code` and the terms' `clause`.

Every refusal termgate makes is one of these, and this module is their one table (`REFUSALS`):
`Refusal` names the code, status, title and clause once so the gateway, the control plane and the
CLI say the same thing about the same rule. A test checks every clause against
`terms/policy.toml` and every code against `docs/errors.md`. (The reference API, a stand-in for
the upstream, keeps its own codes in `reference_api/refusals.py`.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://termgate.dev/problems/"


@dataclass(frozen=True, slots=True)
class Refusal:
    """One kind of refusal: its HTTP status, numeric code, problem type, title and clause."""

    status: int
    code: int
    type: str
    title: str
    clause: str

    def problem(
        self,
        detail: str,
        *,
        instance: str | None = None,
        invalid_params: list[dict[str, str]] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type if "://" in self.type else TYPE_BASE + self.type,
            "title": self.title,
            "status": self.status,
            "detail": detail,
            "code": self.code,
            "clause": self.clause,
        }
        if instance is not None:
            body["instance"] = instance
        if invalid_params:
            body["invalid-params"] = invalid_params
        body.update(extra)
        return body

    def render(self, detail: str, **kwargs: Any) -> bytes:
        return orjson.dumps(self.problem(detail, **kwargs))


@dataclass(frozen=True, slots=True)
class ProblemResponse:
    """A rendered problem ready for any server interface."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)


# Refusals of the gateway (the codes of the API's contract, docs/errors.md). Clause ids refer
# to terms/policy.toml.
MISSING_KEY = Refusal(401, 40100, "missing-subscription-key", "Subscription key required", "2")
UNKNOWN_KEY = Refusal(401, 40100, "invalid-subscription-key", "Subscription key not valid", "2")
UPSTREAM_ERROR = Refusal(502, 50201, "upstream-unavailable", "The API is unreachable", "7")
UPSTREAM_TIMEOUT = Refusal(504, 50401, "upstream-timeout", "The API did not answer in time", "7")
GATEWAY_ERROR = Refusal(500, 50001, "server-error", "Internal gateway error", "7")

SUSPENDED = Refusal(403, 40301, "access-suspended", "Access suspended", "3.1")
TERMS_NOT_ACCEPTED = Refusal(
    403, 40308, "terms-not-accepted", "The current terms have not been accepted", "9"
)
OPERATION_NOT_IN_PRODUCT = Refusal(
    403, 40307, "operation-not-in-product", "Operation not included in your product", "3.2"
)
VALIDATION = Refusal(400, 40001, "validationError", "The request is not valid", "3.3 e")
INVALID_PATH = Refusal(
    400, 40002, "invalid-path", "The request path holds characters no operation accepts", "3.3 c"
)
UNKNOWN_OPERATION = Refusal(404, 40401, "not-found", "No such operation in the API", "3.2")
METHOD_NOT_ALLOWED = Refusal(405, 40501, "method-not-allowed", "Method not allowed here", "3.2")
UNEXPECTED_BODY = Refusal(
    400, 40003, "unexpected-request-body", "This operation takes no request body", "3.2"
)
BODY_TIMEOUT = Refusal(
    408, 40801, "request-body-timeout", "The request body did not arrive in time", "3.3 f"
)

# Identity and consent (clauses 2 and 3.3): the end user's access token and what it covers.
MISSING_TOKEN = Refusal(401, 40101, "missing-token", "Access token required", "3.3 a")
INVALID_TOKEN = Refusal(401, 40102, "invalid-token", "Access token not valid", "3.3 a")
FOREIGN_TOKEN = Refusal(
    401, 40102, "token-of-another-application", "Access token issued to another application", "2"
)
INSUFFICIENT_SCOPE = Refusal(403, 40302, "insufficient-scope", "Scope not granted", "3.3 e")
TENANT_NOT_CONSENTED = Refusal(
    403, 40303, "tenant-not-consented", "Tenant not covered by the consent", "3.3 a"
)
ONE_DEBTOR_REQUIRED = Refusal(
    403, 40306, "one-debtor-required", "The consent spans several debtors", "3.3 a"
)

# Traffic policy: the maintenance calendar (clause 8) and the API lifecycle (clause 4.6).
MAINTENANCE = Refusal(503, 50301, "maintenance", "Planned maintenance in progress", "8")
BROWNOUT = Refusal(
    410, 41001, "operation-brownout", "Operation withdrawn for a brown-out before its sunset", "4.6"
)
OPERATION_RETIRED = Refusal(410, 41002, "operation-retired", "Operation retired", "4.6")

# Traffic policy (clauses 3.3 e-h and 4.4): the plan's limits, counted by the limit step.
RATE_LIMITED = Refusal(429, 42908, "throttlingError", "Rate limit exceeded", "4.4")
DEVELOPER_RATE_LIMITED = Refusal(
    429, 42908, "throttlingError", "Developer-wide rate limit exceeded", "3.3 g"
)
QUOTA_EXHAUSTED = Refusal(429, 42909, "quota-exhausted", "Quota for the period used up", "4.4")
BANDWIDTH_EXHAUSTED = Refusal(
    429, 42910, "bandwidth-exhausted", "Daily bandwidth budget used up", "3.3 f"
)
IN_FLIGHT_CAP = Refusal(
    429, 42911, "too-many-in-flight", "Too many requests of this application under way", "3.3 f"
)
USERS_SERVED_CAP = Refusal(
    403, 40310, "users-served-cap", "Beyond the plan's cap on users served", "4.4"
)
RESPONSE_TOO_LARGE = Refusal(
    403, 40311, "response-too-large", "Response larger than the plan allows", "3.3 e"
)
LIMITER_UNAVAILABLE = Refusal(
    503, 50302, "limiter-unavailable", "Limits cannot be checked right now", "4.4"
)

# The control plane. Readiness of a node (`GET /readyz`).
NOT_READY = Refusal(503, 50303, "not-ready", "Not ready to serve", "7")
# The admin API. An operation answers with the clause it serves (the admin API passes it when it
# refuses); the clause here is the one for a request that reaches no operation.
ADMIN_MISSING_TOKEN = Refusal(401, 40101, "missing-token", "Administrator token required", "3.1")
ADMIN_INVALID_TOKEN = Refusal(401, 40102, "invalid-token", "Administrator token not valid", "3.1")
ADMIN_INVALID_REQUEST = Refusal(400, 40001, "validationError", "The request is not valid", "3.1")
ADMIN_NOT_FOUND = Refusal(404, 40401, "not-found", "No such resource", "3.1")
ADMIN_METHOD_NOT_ALLOWED = Refusal(
    405, 40501, "method-not-allowed", "Method not allowed here", "3.1"
)
ADMIN_CONFLICT = Refusal(409, 40901, "conflict", "Not possible in the current state", "3.1")
ADMIN_SERVER_ERROR = Refusal(500, 50001, "server-error", "Internal error", "7")

# Every refusal above, for the checks of the table and for documentation.
REFUSALS: tuple[Refusal, ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, Refusal)
)
