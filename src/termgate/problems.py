"""Problem documents in the published contract's error model, with termgate's `clause`.

Every refusal termgate makes is one of these, and this module is their one table (`REFUSALS`):
`Refusal` names the status, code, error type, title and clause once so the gateway, the control
plane and the CLI say the same thing about the same rule. A test checks every clause against
`terms/policy.toml`, every code and type against `docs/errors.md`, and every refusal against the
contract's error schema. (The reference API, a stand-in for the upstream, keeps its own codes in
`reference_api/errors.py`.)

A document carries the contract's members (`type` from its enum, `httpStatus`, `code`, `title`,
`detail`, `invalid-params`, `docUrl`), RFC 9457's `status` and `instance` (the `type` values are
relative URI references, so the document is a valid RFC 9457 problem too), and `clause`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import orjson

# The `type` enum of the contract's error schema (`components/schemas/ErrorResponse`).
ErrorType = Literal[
    "apiError", "authenticationError", "invalidRequestError", "throttlingError", "validationError"
]
ERROR_TYPES: tuple[str, ...] = get_args(ErrorType)

JSON_CONTENT_TYPE = "application/json"  # what the published contract declares
PROBLEM_CONTENT_TYPE = "application/problem+json"  # RFC 9457
CONTENT_TYPES = (JSON_CONTENT_TYPE, PROBLEM_CONTENT_TYPE)
# The developer portal's page of every code, each under an anchor named by the code.
ERRORS_PAGE = "/portal/errors"


# eq=False: a kind of refusal is the one object the table declares, hashed by identity (the
# writer's look-up on the request path then builds no tuple).
@dataclass(frozen=True, slots=True, eq=False)
class Refusal:
    """One kind of refusal: its HTTP status, numeric code, error type, title and clause."""

    status: int
    code: int
    type: ErrorType
    title: str
    clause: str

    def fixed_members(self, doc_url: str | None = None) -> dict[str, Any]:
        """The members every problem of this kind has, whatever the request."""
        body: dict[str, Any] = {
            "type": self.type,
            "httpStatus": self.status,
            "status": self.status,
            "code": self.code,
            "title": self.title,
            "clause": self.clause,
        }
        if doc_url is not None:
            body["docUrl"] = doc_url
        return body

    def problem(
        self,
        detail: str,
        *,
        instance: str | None = None,
        invalid_params: list[dict[str, str]] | None = None,
        doc_url: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        body = self.fixed_members(doc_url)
        body["detail"] = detail
        if instance is not None:
            body["instance"] = instance
        if invalid_params:
            body["invalid-params"] = invalid_params
        body.update(extra)
        return body

    def render(self, detail: str, **kwargs: Any) -> bytes:
        return orjson.dumps(self.problem(detail, **kwargs))


class ProblemWriter:
    """How one process writes its problems: the media type (the contract's `application/json`
    or RFC 9457's `application/problem+json`) and the error page `docUrl` points at.

    The members that do not depend on the request are serialised once per refusal of the
    table; a refusal on the request path then costs the encoding of its detail and request id.
    """

    __slots__ = ("_heads", "content_type", "errors_url")

    def __init__(
        self, errors_url: str = ERRORS_PAGE, content_type: str = JSON_CONTENT_TYPE
    ) -> None:
        if content_type not in CONTENT_TYPES:
            raise ValueError(f"content type must be one of {', '.join(CONTENT_TYPES)}")
        self.content_type = content_type
        self.errors_url = errors_url
        self._heads = {refusal: self._head(refusal) for refusal in REFUSALS}

    def doc_url(self, code: int) -> str:
        return f"{self.errors_url}#{code}"

    def _head(self, refusal: Refusal) -> bytes:
        """The fixed members as a JSON object without its closing brace."""
        return orjson.dumps(refusal.fixed_members(self.doc_url(refusal.code)))[:-1]

    def render(
        self,
        refusal: Refusal,
        detail: str,
        instance: str | None = None,
        invalid_params: list[dict[str, str]] | None = None,
        **extra: Any,
    ) -> bytes:
        head = self._heads.get(refusal)
        if head is None:  # a refusal made outside the table (a clause chosen per operation)
            head = self._head(refusal)
        dumps = orjson.dumps
        parts = [head, b',"detail":', dumps(detail)]
        if instance is not None:
            parts += (b',"instance":', dumps(instance))
        if invalid_params:
            parts += (b',"invalid-params":', dumps(invalid_params))
        if extra:
            parts += (b",", dumps(extra)[1:-1])
        parts.append(b"}")
        return b"".join(parts)


@dataclass(frozen=True, slots=True)
class ProblemResponse:
    """A rendered problem ready for any server interface."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)


# Refusals of the gateway (the codes of the API's contract, docs/errors.md). Clause ids refer
# to terms/policy.toml.
MISSING_KEY = Refusal(401, 40100, "authenticationError", "Subscription key required", "2")
UNKNOWN_KEY = Refusal(401, 40100, "authenticationError", "Subscription key not valid", "2")
UPSTREAM_ERROR = Refusal(502, 50201, "apiError", "The API is unreachable", "7")
UPSTREAM_TIMEOUT = Refusal(504, 50401, "apiError", "The API did not answer in time", "7")
GATEWAY_ERROR = Refusal(500, 50001, "apiError", "Internal gateway error", "7")

SUSPENDED = Refusal(403, 40301, "authenticationError", "Access suspended", "3.1")
TERMS_NOT_ACCEPTED = Refusal(
    403, 40308, "authenticationError", "The current terms have not been accepted", "9"
)
OPERATION_NOT_IN_PRODUCT = Refusal(
    403, 40307, "authenticationError", "Operation not included in your product", "3.2"
)
VALIDATION = Refusal(400, 40001, "validationError", "The request is not valid", "3.3 e")
INVALID_PATH = Refusal(
    400,
    40002,
    "invalidRequestError",
    "The request path holds characters no operation accepts",
    "3.3 c",
)
UNKNOWN_OPERATION = Refusal(
    404, 40401, "invalidRequestError", "No such operation in the API", "3.2"
)
METHOD_NOT_ALLOWED = Refusal(405, 40501, "invalidRequestError", "Method not allowed here", "3.2")
UNEXPECTED_BODY = Refusal(
    400, 40003, "invalidRequestError", "This operation takes no request body", "3.2"
)
BODY_INCOMPLETE = Refusal(
    400,
    40004,
    "invalidRequestError",
    "The request body ended before it was complete",
    "3.3 a",
)
BODY_TIMEOUT = Refusal(
    408, 40801, "invalidRequestError", "The request body did not arrive in time", "3.3 f"
)

# Identity and consent (clauses 2 and 3.3): the end user's access token and what it covers.
MISSING_TOKEN = Refusal(401, 40101, "authenticationError", "Access token required", "3.3 a")
INVALID_TOKEN = Refusal(401, 40102, "authenticationError", "Access token not valid", "3.3 a")
FOREIGN_TOKEN = Refusal(
    401, 40102, "authenticationError", "Access token issued to another application", "2"
)
INSUFFICIENT_SCOPE = Refusal(403, 40302, "authenticationError", "Scope not granted", "3.3 e")
TENANT_NOT_CONSENTED = Refusal(
    403, 40303, "authenticationError", "Tenant not covered by the consent", "3.3 a"
)
ONE_DEBTOR_REQUIRED = Refusal(
    403, 40306, "authenticationError", "The consent spans several debtors", "3.3 a"
)

# Traffic policy: the maintenance calendar (clause 8) and the API lifecycle (clause 4.6).
MAINTENANCE = Refusal(503, 50301, "apiError", "Planned maintenance in progress", "8")
BROWNOUT = Refusal(
    410,
    41001,
    "invalidRequestError",
    "Operation withdrawn for a brown-out before its sunset",
    "4.6",
)
OPERATION_RETIRED = Refusal(410, 41002, "invalidRequestError", "Operation retired", "4.6")

# Traffic policy (clauses 3.3 e-h and 4.4): the plan's limits, counted by the limit step.
RATE_LIMITED = Refusal(429, 42908, "throttlingError", "Rate limit exceeded", "4.4")
DEVELOPER_RATE_LIMITED = Refusal(
    429, 42908, "throttlingError", "Developer-wide rate limit exceeded", "3.3 g"
)
QUOTA_EXHAUSTED = Refusal(429, 42909, "throttlingError", "Quota for the period used up", "4.4")
BANDWIDTH_EXHAUSTED = Refusal(
    429, 42910, "throttlingError", "Daily bandwidth budget used up", "3.3 f"
)
IN_FLIGHT_CAP = Refusal(
    429, 42911, "throttlingError", "Too many requests of this application under way", "3.3 f"
)
USERS_SERVED_CAP = Refusal(
    403, 40310, "authenticationError", "Beyond the plan's cap on users served", "4.4"
)
RESPONSE_TOO_LARGE = Refusal(
    403, 40311, "invalidRequestError", "Response larger than the plan allows", "3.3 e"
)
LIMITER_UNAVAILABLE = Refusal(503, 50302, "apiError", "Limits cannot be checked right now", "4.4")

# The control plane. Readiness of a node (`GET /readyz`).
NOT_READY = Refusal(503, 50303, "apiError", "Not ready to serve", "7")
# Any control-plane page or admin API call while the database cannot be reached.
STORE_UNAVAILABLE = Refusal(503, 50304, "apiError", "Temporarily unavailable", "7")
# The admin API. An operation answers with the clause it serves (the admin API passes it when it
# refuses); the clause here is the one for a request that reaches no operation.
ADMIN_MISSING_TOKEN = Refusal(
    401, 40101, "authenticationError", "Administrator token required", "3.1"
)
ADMIN_INVALID_TOKEN = Refusal(
    401, 40102, "authenticationError", "Administrator token not valid", "3.1"
)
ADMIN_FORBIDDEN = Refusal(
    403, 40312, "authenticationError", "Your administrator role does not allow this", "3.1"
)
ADMIN_INVALID_REQUEST = Refusal(400, 40001, "validationError", "The request is not valid", "3.1")
ADMIN_NOT_FOUND = Refusal(404, 40401, "invalidRequestError", "No such resource", "3.1")
ADMIN_METHOD_NOT_ALLOWED = Refusal(
    405, 40501, "invalidRequestError", "Method not allowed here", "3.1"
)
ADMIN_CONFLICT = Refusal(
    409, 40901, "invalidRequestError", "Not possible in the current state", "3.1"
)
ADMIN_SERVER_ERROR = Refusal(500, 50001, "apiError", "Internal error", "7")

# Every refusal above, for the checks of the table and for documentation.
REFUSALS: tuple[Refusal, ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, Refusal)
)

# The usage code of a request whose client went away before the body ended (not a refusal).
CLIENT_CLOSED = 49900

# Refusals only the control plane makes; a gateway usage event never carries their codes.
CONTROL_PLANE_REFUSALS = frozenset(
    {
        NOT_READY,
        STORE_UNAVAILABLE,
        ADMIN_MISSING_TOKEN,
        ADMIN_INVALID_TOKEN,
        ADMIN_FORBIDDEN,
        ADMIN_INVALID_REQUEST,
        ADMIN_NOT_FOUND,
        ADMIN_METHOD_NOT_ALLOWED,
        ADMIN_CONFLICT,
        ADMIN_SERVER_ERROR,
    }
)


def _gateway_clauses() -> dict[int, str]:
    by_code: dict[int, set[str]] = {}
    for refusal in REFUSALS:
        if refusal not in CONTROL_PLANE_REFUSALS:
            by_code.setdefault(refusal.code, set()).add(refusal.clause)
    return {code: " or ".join(sorted(clauses)) for code, clauses in by_code.items()}


# A usage event keeps the code of its refusal; the clause is read back from the code here. A
# code two rules share names both clauses (42908: the key's rate, 4.4, or the developer's, 3.3 g).
GATEWAY_CLAUSES = _gateway_clauses()


def clause_of(code: int) -> str:
    """The clause(s) of terms/policy.toml a gateway refusal's code enforces; "" if none."""
    return GATEWAY_CLAUSES.get(code, "")


# How problems are written when nothing was configured: the contract's media type and the
# error page on the same origin.
DEFAULT_WRITER = ProblemWriter()
