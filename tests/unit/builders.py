"""Real gateway objects built in memory, for the fast unit tests of the enforcement steps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson

from termgate.db.models import Environment, Status
from termgate.gateway.bearer import Bearer
from termgate.gateway.catalog import Operation
from termgate.gateway.exchange import Exchange
from termgate.gateway.snapshot import KeyGrant
from termgate.gateway.tenancy.config import TenancyConfig, load_tenancy
from termgate.gateway.tenancy.resolver import TenantResolver
from termgate.identity.tokens import AccessClaims
from termgate.problems import ProblemResponse, Refusal

NOW = 1_800_000_000.0
# Integer ids keep these tests short: debtors 7 and 8, companies 30 and 31.
TENANCY = load_tenancy(Path(__file__).parents[1] / "support" / "integer_tenancy.toml")
PUBLISHED_TENANCY = load_tenancy()  # GUID ids, as the published contract writes them
ACTIVE = Status.ACTIVE


def grant(**changes: Any) -> KeyGrant:
    fields: dict[str, Any] = {
        "key_id": "key-1",
        "subscription_id": "sub-1",
        "application_id": "app-1",
        "developer_id": "dev-1",
        "plan_id": "plan-1",
        "product_slug": "payroll",
        "environment": Environment.PRODUCTION,
        "key_status": ACTIVE,
        "subscription_status": ACTIVE,
        "application_status": ACTIVE,
        "developer_status": ACTIVE,
        "operations": None,
        "max_page_size": 50,
    }
    fields.update(changes)
    return KeyGrant(**fields)


def bearer(
    scopes: frozenset[str] = frozenset({"employee.info.read"}),
    debtors: frozenset[str] = frozenset({"7"}),
    **changes: Any,
) -> Bearer:
    fields: dict[str, Any] = {
        "client_id": "app-1",
        "end_user_id": "user-1",
        "upstream_user_id": "11",
        "scopes": scopes,
        "debtors": debtors,
        "family_id": "family-1",
        "consent_id": "consent-1",
        "expires_at": NOW + 600,
    }
    fields.update(changes)
    return Bearer(AccessClaims(**fields))


def operation(
    template: str = "/api/debtors/{debtorId}/employees",
    scopes: tuple[frozenset[str], ...] = (frozenset({"employee.info.read"}),),
    **changes: Any,
) -> Operation:
    return Operation(
        operation_id=changes.pop("operation_id", "listEmployees"),
        method=changes.pop("method", "GET"),
        template=template,
        scope_alternatives=scopes,
        tenancy=changes.pop("tenancy", TENANCY.plan(template)),
        **changes,
    )


async def _no_upstream(target: str) -> tuple[int, bytes]:
    raise AssertionError(f"the test's resolver asked the upstream for {target}")


def resolver(
    companies: dict[str, str] | None = None,
    fetch: Any = _no_upstream,
    config: TenancyConfig = TENANCY,
) -> TenantResolver:
    """The tenant resolver over `config`, knowing which debtor owns each of `companies`."""
    tenants = TenantResolver(config, fetch)
    for company, debtor in (companies or {}).items():
        tenants.owners["company"].put(company, debtor)
    return tenants


class Headers(dict[str, str]):
    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(key, default)


def exchange(
    path: str = "/api/debtors/7/employees",
    query: str = "",
    method: str = "GET",
    headers: dict[str, str] | None = None,
    started_at: float = NOW,
) -> Exchange:
    return Exchange(method, path, query, Headers(headers or {}), "req-1", 0.0, started_at)


def ready(
    key_grant: KeyGrant | None = None,
    token: Bearer | None = None,
    op: Operation | None = None,
    tenant_id: str | None = "7",
    **kwargs: Any,
) -> Exchange:
    """An exchange past the identify step."""
    ex = exchange(**kwargs)
    ex.grant = key_grant or grant()
    ex.bearer = token or bearer()
    ex.operation = op or operation()
    ex.tenant_ids = (tenant_id,) if tenant_id is not None and ex.operation.tenancy.tenants else ()
    return ex


def body(response: ProblemResponse | None) -> dict[str, Any]:
    assert response is not None
    decoded: dict[str, Any] = orjson.loads(response.body)
    return decoded


def refused_with(
    response: ProblemResponse | None, refusal: Refusal, ex: Exchange | None = None
) -> dict[str, Any]:
    """The problem's body, after checking the response and the exchange record the refusal."""
    problem = body(response)
    assert response is not None
    assert response.status == refusal.status
    assert (problem["code"], problem["clause"], problem["status"]) == (
        refusal.code,
        refusal.clause,
        refusal.status,
    )
    assert problem["instance"] == "req-1"
    if ex is not None:
        assert (ex.status, ex.code) == (refusal.status, refusal.code)
    return problem


class ClientRequest:
    """A request as the server hands it to the forward step: its headers, address and body."""

    body_timeout = 1.0

    def __init__(self, headers: list[tuple[str, str]], body: bytes = b"") -> None:
        self.headers = headers
        self.body = body

    def header_items(self) -> list[tuple[str, str]]:
        return self.headers

    def client_ip(self) -> str:
        return "192.0.2.7"

    async def body_chunks(self) -> AsyncIterator[bytes]:
        yield self.body
