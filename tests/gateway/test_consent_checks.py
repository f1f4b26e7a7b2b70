"""The authorize step's decisions in process: scopes (clause 3.3 e) and the tenant resolver
behind the tenant check (clause 3.3 a): the decisions over integer ids of a tenancy described in
the test, the resolver over the published API's GUIDs with the shipped tenancy."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from termgate.db.models import Environment, Status
from termgate.gateway.authorize import authorize
from termgate.gateway.bearer import Bearer, granted_scopes
from termgate.gateway.catalog import Catalog
from termgate.gateway.exchange import Exchange
from termgate.gateway.snapshot import KeyGrant
from termgate.gateway.tenancy.config import load_tenancy
from termgate.gateway.tenancy.resolver import TenantResolver
from termgate.gateway.tenancy.upstream import pool_fetch
from termgate.identity.tokens import AccessClaims
from termgate.upstream_client.pool import UpstreamPool
from tests.gateway.published_world import NOWHERE, companies, debtor, employees
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
    published_upstream: str,
) -> None:
    address = urlsplit(published_upstream)
    pool = UpstreamPool(
        address.hostname or "", address.port or 80, max_idle=4, connect_timeout=2.0, timeout=5.0
    )
    tenancy = load_tenancy()  # the published contract's, shipped with the gateway
    company, employee = tenancy.kinds["company"], tenancy.kinds["employee"]
    mine, theirs = frozenset({debtor(2)}), debtor(0)
    own, foreign = companies(2)[1], companies(0)[0]
    try:
        tenants = TenantResolver(tenancy, pool_fetch(pool, address.netloc))
        found = await tenants.locate(company, own, mine)
        assert (found.root, found.absent) == (debtor(2), False)
        assert tenants.root_of(company, own) == debtor(2)
        other = await tenants.locate(company, foreign, mine)
        assert (other.root, other.absent) == (theirs, False)  # another customer's: 40303
        nowhere = await asyncio.gather(*(tenants.locate(company, NOWHERE, mine) for _ in range(3)))
        assert [(where.root, where.absent) for where in nowhere] == [(None, True)] * 3
        assert tenants.root_of(company, NOWHERE) is None  # only listed ids are remembered
        asked = tenants.upstream_requests
        again = await tenants.locate(company, NOWHERE, mine)
        assert (again.root, again.absent, tenants.upstream_requests) == (None, True, asked)
        # Employees are learnt from the listings of the consent's companies.
        staff = await tenants.locate(employee, employees(own)[-1], mine)
        assert (staff.root, staff.absent) == (debtor(2), False)
        outsider = await tenants.locate(employee, employees(foreign, 1)[0], mine)
        assert (outsider.root, outsider.absent) == (None, False)  # refused: 40303
    finally:
        await pool.close()
