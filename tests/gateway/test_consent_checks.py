"""The authorize step's decisions in process: scopes (clause 3.3 e) and the tenant resolver
behind the tenant check (clause 3.3 a), here over the older reference API's integer ids."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from termgate.db.models import Environment, Status
from termgate.gateway.authorize import authorize
from termgate.gateway.bearer import Bearer, granted_scopes
from termgate.gateway.catalog import Catalog
from termgate.gateway.exchange import Exchange
from termgate.gateway.snapshot import KeyGrant
from termgate.gateway.tenancy.resolver import TenantResolver
from termgate.gateway.tenancy.upstream import pool_fetch
from termgate.identity.tokens import AccessClaims
from termgate.upstream_client.pool import UpstreamPool
from tests.unit.builders import TENANCY, resolver

CATALOG = Catalog.from_openapi(
    {
        "paths": {
            "/api/companies/{companyId}/employees": {
                "get": {
                    "operationId": "listEmployees",
                    "security": [{"oauth2": ["employee.info.read"]}],
                }
            },
            "/api/debtors/{debtorId}/report": {
                "get": {
                    "operationId": "report",
                    "security": [{"oauth2": ["debtor.info.read", "employee.payment.read"]}],
                }
            },
        }
    },
    TENANCY,
)
GRANT = KeyGrant(
    key_id="k",
    subscription_id="s",
    application_id="app",
    developer_id="d",
    plan_id="p",
    product_slug="test",
    environment=Environment.SANDBOX,
    key_status=Status.ACTIVE,
    subscription_status=Status.ACTIVE,
    application_status=Status.ACTIVE,
    developer_status=Status.ACTIVE,
    operations=None,
    max_page_size=100,
)


def bearer(scope: str, debtors: tuple[str, ...] = ("1001",)) -> Bearer:
    return Bearer(
        AccessClaims(
            client_id="app",
            end_user_id="u",
            upstream_user_id="7",
            scopes=frozenset(scope.split()),
            debtors=frozenset(debtors),
            family_id="f",
            consent_id="c",
            expires_at=2e9,
        )
    )


def exchange_for(path: str, token: Bearer) -> Exchange:
    exchange = Exchange("GET", path, "", {}, "r", 0.0, 0.0)
    resolved = CATALOG.resolve("GET", path)
    assert resolved is not None
    exchange.operation, exchange.tenant_ids = resolved
    exchange.grant, exchange.bearer = GRANT, token
    return exchange


def directory_with(owners: dict[str, str]) -> TenantResolver:
    return resolver(owners)


def test_clause_3_3_e_write_scope_implies_its_read_scope() -> None:
    assert granted_scopes(frozenset({"employee.info"})) == {"employee.info", "employee.info.read"}
    assert granted_scopes(frozenset({"employee.info.read"})) == {"employee.info.read"}
    directory = directory_with({"2001": "1001"})
    path = "/api/companies/2001/employees"
    assert authorize(exchange_for(path, bearer("employee.info")), directory) is None
    refused = authorize(exchange_for(path, bearer("employee.employment")), directory)
    assert refused is not None
    assert refused.status == 403


def test_clause_3_3_e_an_alternative_of_several_scopes_needs_all_of_them() -> None:
    directory = directory_with({})
    path = "/api/debtors/1001/report"
    one = authorize(exchange_for(path, bearer("debtor.info.read")), directory)
    assert one is not None
    assert one.status == 403
    both = bearer("debtor.info.read employee.payment")
    assert authorize(exchange_for(path, both), directory) is None


def test_clause_3_3_a_unknown_company_is_looked_up_only_when_it_could_exist() -> None:
    directory = directory_with({"2001": "1001", "2002": "1002"})
    token = bearer("employee.info.read")
    known = exchange_for("/api/companies/2001/employees", token)
    assert authorize(known, directory) is None
    assert not known.unplaced
    other = authorize(exchange_for("/api/companies/2002/employees", token), directory)
    assert other is not None
    assert other.status == 403
    unseen = exchange_for("/api/companies/2003/employees", token)
    assert not unseen.unplaced
    assert authorize(unseen, directory) is None
    assert unseen.unplaced  # left to the resolve_tenant step, which asks the upstream
    for odd in ("02001", "x1", "1" * 30):
        refused = authorize(exchange_for(f"/api/companies/{odd}/employees", token), directory)
        assert refused is not None
        assert refused.status == 403


async def test_clause_3_3_a_the_resolver_learns_owners_from_the_upstreams_listings(
    payroll_upstream: str,
) -> None:
    address = urlsplit(payroll_upstream)
    pool = UpstreamPool(
        address.hostname or "", address.port or 80, max_idle=4, connect_timeout=2.0, timeout=5.0
    )
    company = TENANCY.kinds["company"]
    try:
        tenants = TenantResolver(TENANCY, pool_fetch(pool, address.netloc))
        found = await tenants.locate(company, "2003", frozenset({"1003"}))
        assert (found.root, found.absent) == ("1003", False)
        assert tenants.root_of(company, "2003") == "1003"
        foreign = await tenants.locate(company, "2006", frozenset({"1003"}))
        assert (foreign.root, foreign.absent) == ("1001", False)  # another customer's: 40303
        nowhere = await asyncio.gather(
            *(tenants.locate(company, "999999", frozenset({"1003"})) for _ in range(3))
        )
        assert [(where.root, where.absent) for where in nowhere] == [(None, True)] * 3
        assert tenants.root_of(company, "999999") is None  # only listed ids are remembered
    finally:
        await pool.close()
