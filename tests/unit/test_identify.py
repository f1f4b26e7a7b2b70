"""Step 1, identify, over a snapshot and catalog built in memory: clauses 2, 3.2, 3.3 a, 3.3 c."""

from __future__ import annotations

from termgate.core.memo import Memo
from termgate.core.secrets import hash_key
from termgate.gateway.bearer import BearerTokens
from termgate.gateway.catalog import Catalog
from termgate.gateway.identify import KEY_HASHES, identify
from termgate.gateway.snapshot import AccessSnapshot
from termgate.problems import (
    FOREIGN_TOKEN,
    INVALID_PATH,
    INVALID_TOKEN,
    METHOD_NOT_ALLOWED,
    MISSING_KEY,
    MISSING_TOKEN,
    UNKNOWN_KEY,
    UNKNOWN_OPERATION,
)
from tests.unit.builders import exchange, grant, operation, refused_with
from tests.unit.tokens_support import ISSUED_AT, ISSUER, OTHER_KEY, jwks, token

KEY = "tg_live_key"
CATALOG = Catalog.from_openapi(
    {
        "paths": {
            "/api/debtors/{debtorId}/employees": {
                "get": {"operationId": "listEmployees"},
                "post": {"operationId": "addEmployee", "requestBody": {}},
            },
            "/api/ping": {"get": {"operationId": "ping"}},
        }
    }
)
INVALID_CHALLENGE = [("www-authenticate", 'Bearer realm="termgate", error="invalid_token"')]


def snapshot(**changes: object) -> AccessSnapshot:
    fields: dict[str, object] = {
        "keys": {hash_key(KEY): grant()},
        "tokens": BearerTokens(jwks(), ISSUER),
    }
    fields.update(changes)
    return AccessSnapshot(**fields)  # type: ignore[arg-type]


def call(
    headers: dict[str, str] | None = None,
    path: str = "/api/debtors/7/employees",
    method: str = "GET",
    query: str = "",
    started_at: float = ISSUED_AT + 10,
    **snapshot_changes: object,
):  # type: ignore[no-untyped-def]
    sent = {"x-subscription-key": KEY, "authorization": f"Bearer {token()}"}
    sent.update(headers or {})
    ex = exchange(path, query, method, {k: v for k, v in sent.items() if v}, started_at)
    return ex, identify(ex, snapshot(**snapshot_changes), CATALOG)


def test_clause_2_request_without_a_key_is_refused() -> None:
    ex, response = call({"x-subscription-key": ""})
    problem = refused_with(response, MISSING_KEY, ex)
    assert problem["detail"] == "Send your subscription key in the X-Subscription-Key header."
    assert ex.grant is None


def test_clause_2_unknown_key_is_refused() -> None:
    ex, response = call({"x-subscription-key": "tg_live_other"})
    problem = refused_with(response, UNKNOWN_KEY, ex)
    assert problem["detail"] == "This subscription key is unknown or was revoked."


def test_clause_3_3_a_request_without_a_token_is_challenged() -> None:
    ex, response = call({"authorization": ""})
    problem = refused_with(response, MISSING_TOKEN, ex)
    assert problem["detail"] == (
        "Send the end user's access token in the Authorization header as `Bearer <token>`."
    )
    assert response is not None
    assert response.headers == [("www-authenticate", 'Bearer realm="termgate"')]
    assert ex.grant == grant()


def test_clause_3_3_a_no_signing_key_refuses_every_token() -> None:
    ex, response = call(tokens=None)
    problem = refused_with(response, INVALID_TOKEN, ex)
    assert problem["detail"] == "The access token is not valid: no signing key exists."
    assert response is not None
    assert response.headers == INVALID_CHALLENGE


def test_clause_3_3_a_forged_token_is_refused() -> None:
    ex, response = call({"authorization": f"Bearer {token(OTHER_KEY)}"})
    problem = refused_with(response, INVALID_TOKEN, ex)
    assert problem["detail"] == "The access token is not valid: the token is not valid."
    assert response is not None
    assert response.headers == INVALID_CHALLENGE


def test_clause_3_3_a_expiry_is_judged_on_the_moved_clock() -> None:
    ex, response = call(started_at=ISSUED_AT, clock_offset=3600.0)
    problem = refused_with(response, INVALID_TOKEN, ex)
    assert problem["detail"] == "The access token is not valid: the token has expired."
    assert call(started_at=ISSUED_AT, clock_offset=3599.0)[1] is None


def test_clause_3_3_a_revoked_family_is_refused() -> None:
    ex, response = call(revoked=frozenset({"family-1"}))
    problem = refused_with(response, INVALID_TOKEN, ex)
    assert problem["detail"] == (
        "The access token was revoked (or the end user withdrew the consent)."
    )
    assert response is not None
    assert response.headers == INVALID_CHALLENGE
    assert ex.bearer is None


def test_clause_2_token_of_another_application_is_refused() -> None:
    ex, response = call({"authorization": f"Bearer {token(client_id='app-2')}"})
    problem = refused_with(response, FOREIGN_TOKEN, ex)
    assert problem["detail"] == (
        "The access token was issued to another application than the subscription key's; "
        "credentials are not transferable."
    )
    assert response is not None
    assert response.headers == INVALID_CHALLENGE


def test_clause_3_3_c_refused_path_is_named() -> None:
    ex, response = call(path="/api/debtors/7?/employees")
    problem = refused_with(response, INVALID_PATH, ex)
    assert problem["detail"] == (
        "The request path is refused: the path holds the character U+003F."
    )


def test_clause_3_2_method_not_allowed_lists_the_methods() -> None:
    ex, response = call(method="DELETE")
    problem = refused_with(response, METHOD_NOT_ALLOWED, ex)
    assert problem["detail"] == "/api/debtors/7/employees allows GET, POST."
    assert response is not None
    assert response.headers == [("allow", "GET, POST")]


def test_clause_3_2_unknown_operation_is_refused() -> None:
    ex, response = call(path="/api/unknown")
    problem = refused_with(response, UNKNOWN_OPERATION, ex)
    assert problem["detail"] == "GET /api/unknown is not part of the API."


def test_clause_3_3_a_identified_request_carries_operation_tenant_and_target() -> None:
    ex, response = call(path="/api/debtors/7/employees", query="a=é")
    assert response is None
    assert ex.operation is not None
    assert ex.operation.operation_id == "listEmployees"
    assert ex.tenant_ids == ("7",)
    assert ex.bearer is not None
    assert ex.bearer.family_id == "family-1"
    assert ex.grant == grant()
    assert (ex.target, ex.query) == ("/api/debtors/7/employees", "a=%C3%A9")
    ex, response = call(path="/api/ping")
    assert response is None
    assert ex.tenant_ids == ()


def test_clause_3_3_a_target_is_the_encoded_path() -> None:
    ex, _ = call(path="/api/debtors/é/employees")
    assert ex.target == "/api/debtors/%C3%A9/employees"
    assert operation().operation_id == "listEmployees"


def test_clause_2_key_revoked_after_it_was_served_is_refused() -> None:
    """The worker remembers a served key's hash, never its grant: the snapshot still decides."""
    assert call()[1] is None
    assert KEY_HASHES.get(KEY) == hash_key(KEY)
    ex, response = call(keys={})
    problem = refused_with(response, UNKNOWN_KEY, ex)
    assert problem["detail"] == "This subscription key is unknown or was revoked."


def test_clause_2_only_found_keys_are_remembered_and_few() -> None:
    call({"x-subscription-key": "tg_live_never_issued"})
    assert KEY_HASHES.get("tg_live_never_issued") is None
    hashes: Memo[str] = Memo(capacity=2, longest=8)
    for key in ("k1", "k2", "k3"):
        hashes.remember(key, hash_key(key))
    assert [hashes.get(key) for key in ("k1", "k2", "k3")] == [None, None, hash_key("k3")]
    hashes.remember("k" * 9, hash_key("k" * 9))
    assert hashes.get("k" * 9) is None
    assert "k3" not in repr(hashes)
