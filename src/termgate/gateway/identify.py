"""Step 1, identify: the subscription key (clause 2), the end user's access token (clause 3.3 a)
and the API operation asked for, with the tenant its path names; a body on an operation that
takes none is refused here, before anything is counted."""

from __future__ import annotations

from termgate.core.memo import Memo
from termgate.core.secrets import hash_key
from termgate.gateway.bearer import TokenError
from termgate.gateway.catalog import Catalog
from termgate.gateway.exchange import Exchange, refuse
from termgate.gateway.snapshot import AccessSnapshot
from termgate.gateway.target import checked_path, encoded_query
from termgate.problems import (
    FOREIGN_TOKEN,
    INVALID_PATH,
    INVALID_TOKEN,
    METHOD_NOT_ALLOWED,
    MISSING_KEY,
    MISSING_TOKEN,
    UNEXPECTED_BODY,
    UNKNOWN_KEY,
    UNKNOWN_OPERATION,
    ProblemResponse,
)

KEY_HEADER = "x-subscription-key"
TOKEN_HEADER = "authorization"
# RFC 6750 §3: no error code when the request carried no token at all, invalid_token otherwise.
REALM = 'Bearer realm="termgate"'
NO_TOKEN_CHALLENGE = ("www-authenticate", REALM)
INVALID_TOKEN_CHALLENGE = ("www-authenticate", f'{REALM}, error="invalid_token"')
# The hash of a key the snapshot knows, per worker: only a key found is remembered, so unknown
# keys cannot crowd out known ones; the snapshot still decides on every request.
KEY_HASHES: Memo[str] = Memo(capacity=1024, longest=64)
BODILESS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})  # unless the API describes a body


def _token_refused(exchange: Exchange, detail: str) -> ProblemResponse:
    problem = refuse(exchange, INVALID_TOKEN, detail)
    problem.headers.append(INVALID_TOKEN_CHALLENGE)
    return problem


def identify(
    exchange: Exchange, snapshot: AccessSnapshot, catalog: Catalog
) -> ProblemResponse | None:
    headers = exchange.headers
    key = headers.get(KEY_HEADER)
    if not key:
        return refuse(
            exchange, MISSING_KEY, "Send your subscription key in the X-Subscription-Key header."
        )
    hashed = KEY_HASHES.get(key)
    if hashed is not None:
        grant = snapshot.keys.get(hashed)
    else:
        hashed = hash_key(key)
        grant = snapshot.keys.get(hashed)
        if grant is not None:
            KEY_HASHES.remember(key, hashed)
    if grant is None:
        return refuse(exchange, UNKNOWN_KEY, "This subscription key is unknown or was revoked.")
    exchange.grant = grant
    authorization = headers.get(TOKEN_HEADER)
    if not authorization:
        problem = refuse(
            exchange,
            MISSING_TOKEN,
            "Send the end user's access token in the Authorization header as `Bearer <token>`.",
        )
        problem.headers.append(NO_TOKEN_CHALLENGE)
        return problem
    tokens = snapshot.tokens
    if tokens is None:
        return _token_refused(exchange, "The access token is not valid: no signing key exists.")
    try:
        bearer = tokens.bearer(authorization, exchange.started_at + snapshot.clock_offset)
    except TokenError as error:
        return _token_refused(exchange, f"The access token is not valid: {error}.")
    if bearer.family_id in snapshot.revoked:
        return _token_refused(
            exchange, "The access token was revoked (or the end user withdrew the consent)."
        )
    exchange.bearer = bearer
    if bearer.client_id != grant.application_id:
        problem = refuse(
            exchange,
            FOREIGN_TOKEN,
            "The access token was issued to another application than the subscription key's; "
            "credentials are not transferable.",
        )
        problem.headers.append(INVALID_TOKEN_CHALLENGE)
        return problem
    fault, exchange.target = checked_path(exchange.path)
    if fault is not None:
        return refuse(exchange, INVALID_PATH, f"The request path is refused: {fault}.")
    exchange.query = encoded_query(exchange.query)
    resolved = catalog.resolve(exchange.method, exchange.path)
    if resolved is None:
        allowed = catalog.allowed_methods(exchange.path)
        if allowed:
            problem = refuse(
                exchange, METHOD_NOT_ALLOWED, f"{exchange.path} allows {', '.join(allowed)}."
            )
            problem.headers.append(("allow", ", ".join(allowed)))
            return problem
        return refuse(
            exchange,
            UNKNOWN_OPERATION,
            f"{exchange.method} {exchange.path} is not part of the API.",
        )
    exchange.operation, exchange.tenant_ids = resolved
    return unexpected_body(exchange)


def unexpected_body(exchange: Exchange) -> ProblemResponse | None:
    """A body on a GET, HEAD, DELETE or OPTIONS the API describes without one: refused, not
    forwarded (the upstream would not read it, and the connection would break)."""
    operation = exchange.operation
    if exchange.method not in BODILESS or (operation is not None and operation.accepts_body):
        return None
    headers = exchange.headers
    length = headers.get("content-length")
    if (length is None or length == "0") and headers.get("transfer-encoding") is None:
        return None
    return refuse(exchange, UNEXPECTED_BODY, f"{exchange.method} requests here take no body.")
