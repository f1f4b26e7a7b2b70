"""The catalog over other providers' documents: OpenAPI 3.1, schemes of any name, `$ref`s, and
documents with faults the gateway reports and works around (clauses 3.2 and 3.3 e)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from termgate.core.secrets import hash_key
from termgate.gateway.bearer import BearerTokens
from termgate.gateway.catalog import Catalog
from termgate.gateway.identify import identify
from termgate.gateway.openapi_source import (
    DocumentError,
    check_document,
    describe,
    read_document_file,
)
from termgate.gateway.snapshot import AccessSnapshot
from termgate.gateway.tenancy.config import parse_tenancy
from termgate.problems import UNKNOWN_OPERATION
from tests.unit.builders import exchange, grant, refused_with
from tests.unit.tokens_support import ISSUED_AT, ISSUER, jwks, token

# That provider's tenancy: staff members belong to one employer, the consent's root.
STAFF_TENANCY = """
[tenants.employer]
parameter = "employerId"
id_form = "opaque"

[tenants.staff]
parameter = "staffNumber"
id_form = "opaque"
parent = "employer"
listing = "/v2/employers/{employerId}/staff"
id_field = "staffNumber"
"""
OTHER_PROVIDER: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Another HR API", "version": "2"},
    "security": [{"hrAuth": ["staff:read"]}],
    "paths": {
        "/v2/staff": {"$ref": "#/components/pathItems/Staff"},
        "/v2/staff/{staffNumber}": {
            "parameters": [{"$ref": "#/components/parameters/StaffNumber"}],
            "get": {"operationId": "readMember"},
            "patch": {
                "operationId": "changeMember",
                "security": [{"hrAuth": ["staff:write"]}, {"hrAuth": ["admin"], "key": []}],
                "requestBody": {"content": {}},
            },
        },
        "/v2/staff/me": {"get": {"operationId": "readMe", "security": [{"key": []}]}},
        "/v2/ping": {"get": {"operationId": "ping", "security": []}},
        "/v2/login": {"get": {"operationId": "login", "security": [{}, {"hrAuth": ["x"]}]}},
    },
    "components": {
        "securitySchemes": {
            "hrAuth": {"$ref": "#/components/securitySchemes/oidc"},
            "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://id.example/.well-known"},
            "key": {"type": "apiKey", "name": "X-Key", "in": "header"},
        },
        "parameters": {
            "StaffNumber": {
                "name": "staffNumber",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            },
            "Size": {
                "name": "pageSize",
                "in": "query",
                "schema": {"type": "integer", "default": 25},
            },
        },
        "pathItems": {
            "Staff": {
                "get": {
                    "operationId": "listStaff",
                    "parameters": [{"$ref": "#/components/parameters/Size"}],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    },
}


def test_clause_3_3_e_a_3_1_document_with_a_differently_named_scheme_works() -> None:
    catalog = Catalog.from_openapi(OTHER_PROVIDER)
    listing = catalog.match("GET", "/v2/staff")
    assert listing is not None
    assert listing.operation_id == "listStaff"
    assert listing.scope_alternatives == (frozenset({"staff:read"}),)  # the document's default
    assert (listing.paged, listing.default_page_size) == (True, 25)
    member = catalog.match("GET", "/v2/staff/0042")
    assert member is not None
    assert member.path_params("/v2/staff/0042") == {"staffNumber": "0042"}
    change = catalog.match("PATCH", "/v2/staff/0042")
    assert change is not None
    assert change.scope_alternatives == (frozenset({"staff:write"}), frozenset({"admin"}))
    assert change.accepts_body
    assert not member.accepts_body
    # The default tenancy is the published contract's: it does not know {staffNumber}, so
    # those operations fail closed until the provider describes it (clause 3.3 a).
    assert [issue.where for issue in catalog.issues] == [
        "GET /v2/staff/{staffNumber}",
        "PATCH /v2/staff/{staffNumber}",
    ]
    described = parse_tenancy(STAFF_TENANCY)
    assert Catalog.from_openapi(OTHER_PROVIDER, described).issues == ()


def test_clause_3_3_e_requirements_without_oauth_scopes_let_any_token_through() -> None:
    catalog = Catalog.from_openapi(OTHER_PROVIDER)
    for path in ("/v2/staff/me", "/v2/ping", "/v2/login"):
        op = catalog.match("GET", path)
        assert op is not None
        assert op.scope_alternatives == (), path
    assert catalog.match("GET", "/v2/staff/me").operation_id == "readMe"  # type: ignore[union-attr]


def test_clause_3_3_e_one_requirement_needs_all_its_scopes_but_x_and_x_read_count_once() -> None:
    document = {
        "components": {"securitySchemes": {"Auth": {"type": "oauth2", "flows": {}}}},
        "paths": {
            "/r": {
                "get": {"security": [{"Auth": ["a", "a.read", "b.read"]}]},
                "put": {"security": [{"Auth": ["a"]}, {"Auth": ["a", "a.read"]}]},
            }
        },
    }
    catalog = Catalog.from_openapi(document)
    read = catalog.match("GET", "/r")
    assert read is not None
    assert read.scope_alternatives == (frozenset({"a.read", "b.read"}),)
    assert read.any_scope is None
    assert read.operation_id == "get /r"
    write = catalog.match("PUT", "/r")
    assert write is not None
    assert write.scope_alternatives == (frozenset({"a"}), frozenset({"a.read"}))


def faulty() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "components": {"securitySchemes": {"Bearer": {"type": "oauth2", "flows": {}}}},
        "paths": {
            "/ok/{id}": {"get": {"operationId": "ok", "security": [{"Bearer": ["r"]}]}},
            "/gone": {"$ref": "#/components/pathItems/Nowhere"},
            "/far": {"$ref": "other.yaml#/paths/far"},
            "/bad-security": {"get": {"operationId": "badSecurity", "security": "Bearer"}},
            "/bad-scopes": {"get": {"operationId": "badScopes", "security": [{"Bearer": "r"}]}},
            "/unknown-scheme": {"get": {"operationId": "unknown", "security": [{"Jwt": ["r"]}]}},
            "/same/{a}": {"get": {"operationId": "sameA", "security": [{"Bearer": ["r"]}]}},
            "/same/{b}": {"get": {"operationId": "sameB", "security": [{"Bearer": ["r"]}]}},
            "/broken/{": {"get": {"operationId": "broken", "security": [{"Bearer": ["r"]}]}},
            "no-slash": {"get": {"operationId": "noSlash", "security": [{"Bearer": ["r"]}]}},
            "/open": {
                "get": {"operationId": "open"},
                "put": {"operationId": "ok", "security": [{"Bearer": ["w"]}]},
            },
            "/odd/{id}": {
                "get": {
                    "operationId": "odd",
                    "security": [{"Bearer": ["r"]}],
                    "parameters": [
                        {"name": "ID", "in": "path", "required": True},
                        {"name": "extra", "in": "path", "required": True},
                        {"$ref": "#/components/parameters/Missing"},
                    ],
                }
            },
        },
    }


# The faulty document's path parameters name no tenant.
ANY_ID_TENANCY = """
[tenants.root]
parameter = "debtorId"

[untenanted]
parameters = ["id", "a", "b", "ID", "extra"]
"""


def test_clause_3_2_what_cannot_be_used_is_reported_and_the_rest_served() -> None:
    catalog = Catalog.from_openapi(faulty(), parse_tenancy(ANY_ID_TENANCY))
    served = {op.operation_id for op in catalog.operations}
    assert served == {"ok", "unknown", "sameA", "open", "odd"}
    assert len(catalog.operations) == 6
    issues = [str(issue) for issue in catalog.issues]
    expected = [
        "paths//gone: $ref '#/components/pathItems/Nowhere' leads nowhere",
        "paths//far: $ref 'other.yaml#/paths/far' is not a reference inside this document",
        "GET /bad-security: security is not a list of requirement objects; not served",
        "GET /bad-scopes: the scopes of 'Bearer' are not a list; not served",
        "GET /open: no security requirement; any valid access token may call it",
        "GET /ok/{id}: the template's {id} is not declared as a parameter",
        "GET /same/{a}: the template's {a} is not declared as a parameter",
        "GET /same/{b}: the template's {b} is not declared as a parameter",
        "GET /odd/{id}: path parameter 'ID' is declared for the template's {id}",
        "GET /odd/{id}: path parameter 'extra' is not in the template; ignored",
        "GET /odd/{id}: parameter $ref '#/components/parameters/Missing' leads nowhere",
        "components/securitySchemes/Jwt: not declared but named by 1 operation(s)",
        "GET /same/{b}: matches the same paths as /same/{a}; not served",
        "PUT /open: operationId 'ok' is also GET /ok/{id}'s; usage and products count them as one",
        "GET /broken/{: the path template has an unbalanced { or }; not served",
        "GET no-slash: the path template has a path template starts with /; not served",
    ]
    for line in expected:
        assert any(issue.startswith(line) for issue in issues), line
    assert len(issues) == len(expected)
    unknown = catalog.match("GET", "/unknown-scheme")
    assert unknown is not None
    assert unknown.scope_alternatives == (frozenset({"r"}),)
    assert catalog.match("GET", "/bad-security") is None
    same = catalog.match("GET", "/same/1")
    assert same is not None
    assert same.operation_id == "sameA"


def test_clause_3_2_a_base_path_in_the_servers_is_reported_not_prepended() -> None:
    document = {"servers": [{"url": "https://hr.example/v2/"}], "paths": {"/staff": {}}}
    assert [str(issue) for issue in Catalog.from_openapi(document).issues] == [
        "servers: the first server's URL has the base path /v2; the gateway matches the paths "
        "as written, without it"
    ]
    for plain in ("https://hr.example", "/", "https://{region}.hr.example/{base}"):
        assert Catalog.from_openapi({"servers": [{"url": plain}], "paths": {}}).issues == ()


def test_clause_3_2_a_document_without_paths_serves_nothing_and_says_so() -> None:
    catalog = Catalog.from_openapi({"openapi": "3.1.0"})
    assert catalog.operations == ()
    assert [str(issue) for issue in catalog.issues] == [
        "paths: missing or not an object; no operation can be served"
    ]
    assert catalog.match("GET", "/anything") is None


def test_clause_3_2_an_operation_not_in_the_document_is_refused() -> None:
    key = "tg_live_key"
    snapshot = AccessSnapshot(  # type: ignore[call-arg]
        keys={hash_key(key): grant()}, tokens=BearerTokens(jwks(), ISSUER)
    )
    catalog = Catalog.from_openapi(OTHER_PROVIDER)
    headers = {"x-subscription-key": key, "authorization": f"Bearer {token()}"}
    refused = exchange("/v2/payroll", headers=headers, started_at=ISSUED_AT + 10)
    problem = refused_with(identify(refused, snapshot, catalog), UNKNOWN_OPERATION, refused)
    assert problem["detail"] == "GET /v2/payroll is not part of the API."
    served = exchange("/v2/staff/7", headers=headers, started_at=ISSUED_AT + 10)
    assert identify(served, snapshot, catalog) is None
    assert served.operation is not None
    assert served.operation.operation_id == "readMember"


def test_clause_3_2_the_document_is_read_from_a_json_or_yaml_file(tmp_path: Path) -> None:
    as_json, as_yaml = tmp_path / "api.json", tmp_path / "api.yaml"
    as_json.write_bytes(orjson.dumps(OTHER_PROVIDER))
    as_yaml.write_text(yaml.safe_dump(OTHER_PROVIDER))
    assert read_document_file(as_json) == OTHER_PROVIDER
    assert read_document_file(as_yaml) == OTHER_PROVIDER
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(DocumentError, match="does not hold an OpenAPI document"):
        read_document_file(tmp_path / "list.yaml")
    (tmp_path / "bad.yaml").write_text("a: [\n")
    with pytest.raises(DocumentError, match="neither JSON nor YAML"):
        read_document_file(tmp_path / "bad.yaml")
    with pytest.raises(DocumentError, match="cannot read"):
        read_document_file(tmp_path / "missing.yaml")


def test_clause_3_2_the_validator_reports_and_the_operator_sees_it() -> None:
    checked = check_document(faulty())
    assert [str(issue) for issue in checked][-1] == (
        "document: the validator stopped at $ref '/components/pathItems/Nowhere': PointerToNowhere"
    )
    assert any("not valid OpenAPI" in str(issue) for issue in checked)  # no `info`, ...
    assert check_document({"swagger": "2.0"})[0].what == "version '' is not 3.0 or 3.1; read as 3.1"
    catalog = Catalog.from_openapi(faulty())
    shown = describe(catalog, checked, "api.yaml")
    assert shown["source"] == "api.yaml"
    assert shown["operations"] == 6
    assert shown["not_used_as_written"] == [str(issue) for issue in catalog.issues]
    assert len(shown["not_valid_openapi"]) == len(checked)
    assert describe(catalog, None, "api.yaml")["not_valid_openapi"] is None
