"""Who owns a tenant id (clause 3.3 a): learnt from the published listings of a tenant tree,
once per listing, remembered in bounded memory, and decided per request from memory alone."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import orjson
import pytest

from termgate.gateway.tenancy.check import TenantRefusal, check_path, settle
from termgate.gateway.tenancy.config import consent_roots, load_tenancy
from termgate.gateway.tenancy.lru import BoundedLRU
from termgate.gateway.tenancy.resolver import TenantResolver
from termgate.gateway.tenancy.upstream import tenant_resolver
from termgate.settings import Settings
from termgate.upstream_client.pool import UpstreamError, UpstreamPool
from tests.support.tenant_upstream import TenantTree, TenantUpstream, guid

CONFIG = load_tenancy()
COMPANY = "/api/companies/{companyId}/svwsettings"
EMPLOYEE = "/api/employees/{employeeId}/fixedhours"
BOTH = "/api/companies/{companyId}/employees/{employeeId}/absences"
DEBTOR = "/api/debtors/{debtorId}/companies"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def resolver(tree: TenantTree, clock: Clock | None = None, **options: float) -> TenantResolver:
    return TenantResolver(CONFIG, tree.fetch, clock=clock or Clock(), **options)  # type: ignore[arg-type]


async def decide(
    resolver: TenantResolver, template: str, roots: frozenset[str], **params: str
) -> TenantRefusal | None:
    decided = check_path((plan := CONFIG.plan(template)), plan.ids_of(params), roots, resolver)
    if isinstance(decided, tuple):
        return await settle(decided, roots, resolver)
    return decided


def of(tree: TenantTree, debtor: str) -> tuple[list[str], list[str]]:
    companies = [c for c, d in tree.companies.items() if d == debtor]
    return companies, [e for e, c in tree.employees.items() if c in companies]


async def test_clause_3_3_a_the_consents_tenants_pass_and_another_customers_are_refused() -> None:
    tree = TenantTree.generate(seed=3)
    mine, theirs = tree.debtors[0], tree.debtors[1]
    roots = consent_roots(CONFIG, [mine.upper()])
    tenants = resolver(tree)
    (company, *_), (employee, *_) = of(tree, mine)
    (other_company, *_), (other_employee, *_) = of(tree, theirs)
    assert await decide(tenants, DEBTOR, roots, debtorId=mine) is None
    assert await decide(tenants, COMPANY, roots, companyId=company) is None
    assert await decide(tenants, EMPLOYEE, roots, employeeId=employee) is None
    assert await decide(tenants, BOTH, roots, companyId=company, employeeId=employee) is None
    refusals = [
        await decide(tenants, DEBTOR, roots, debtorId=theirs),
        await decide(tenants, COMPANY, roots, companyId=other_company),
        await decide(tenants, EMPLOYEE, roots, employeeId=other_employee),
        await decide(tenants, BOTH, roots, companyId=company, employeeId=other_employee),
        await decide(tenants, BOTH, roots, companyId=other_company, employeeId=employee),
    ]
    assert [refusal and refusal.reason for refusal in refusals] == [
        "not covered by the consent"
    ] * 5
    # Another customer's company, once placed, is refused from memory.
    again = check_path(CONFIG.plan(COMPANY), (other_company,), roots, tenants)
    assert isinstance(again, TenantRefusal)
    assert [refusal and refusal.parameter for refusal in refusals] == [
        "debtorId", "companyId", "employeeId", "employeeId", "companyId"
    ]  # fmt: skip


async def test_clause_3_3_a_case_variants_are_one_id_and_other_spellings_are_refused() -> None:
    tree = TenantTree.generate(seed=4)
    roots = consent_roots(CONFIG, [tree.debtors[0]])
    tenants = resolver(tree)
    (company, *_), (employee, *_) = of(tree, tree.debtors[0])
    _, (other, *_) = of(tree, tree.debtors[1])
    assert await decide(tenants, EMPLOYEE, roots, employeeId=employee.upper()) is None
    assert await decide(tenants, EMPLOYEE, roots, employeeId=other.upper()) is not None
    assert await decide(tenants, DEBTOR, roots, debtorId=tree.debtors[0].upper()) is None
    before = len(tree.requests)
    for spelling in ("{" + company + "}", company.replace("-", ""), f" {company}", "urn:uuid:x"):
        refusal = await decide(tenants, COMPANY, roots, companyId=spelling)
        assert refusal == TenantRefusal(
            "companyId", spelling, "not a company id in the form this API uses"
        )
    assert len(tree.requests) == before  # refused without asking the upstream


async def test_clause_3_3_a_a_company_that_exists_nowhere_goes_on_to_the_apis_own_404() -> None:
    tree = TenantTree.generate(seed=5)
    roots = consent_roots(CONFIG, [tree.debtors[0]])
    tenants = resolver(tree)
    nobody = guid(random.Random(99))
    assert await decide(tenants, COMPANY, roots, companyId=nobody) is None
    assert tree.walks("/api/companies") == 1
    # An employee cannot be told apart: no listing names every employee's company.
    refusal = await decide(tenants, EMPLOYEE, roots, employeeId=nobody)
    assert refusal == TenantRefusal("employeeId", nobody, "not covered by the consent")
    assert nobody not in tenants.owners["employee"]
    assert nobody not in tenants.owners["company"]


async def test_clause_3_3_a_each_listing_is_walked_once_then_ids_are_decided_from_memory() -> None:
    tree = TenantTree.generate(seed=6, employees=250)  # several pages of 100
    debtor = tree.debtors[0]
    roots = consent_roots(CONFIG, [debtor])
    tenants = resolver(tree)
    companies, employees = of(tree, debtor)
    assert await decide(tenants, EMPLOYEE, roots, employeeId=employees[-1]) is None
    assert tree.walks(f"/api/debtors/{debtor}/companies") == 1
    for company in companies:
        assert tree.walks(f"/api/companies/{company}/employees") == 1
    walked = len(tree.requests)
    pages = sum(-(-max(1, len(of_c)) // 100) for of_c in (
        [e for e, c in tree.employees.items() if c == company] for company in companies
    ))  # fmt: skip
    assert walked == 1 + pages == tenants.upstream_requests
    # Every other id of the consent is now a dict lookup: check_path places it alone.
    for employee in employees:
        assert check_path(CONFIG.plan(EMPLOYEE), (employee,), roots, tenants) is None
    for company in companies:
        assert check_path(CONFIG.plan(COMPANY), (company,), roots, tenants) is None
    # Unknown and foreign ids within the refresh period cost nothing more.
    _, (foreign, *_) = of(tree, tree.debtors[1])
    assert await decide(tenants, EMPLOYEE, roots, employeeId=foreign) is not None
    assert await decide(tenants, EMPLOYEE, roots, employeeId=guid(random.Random(1))) is not None
    assert len(tree.requests) == walked


async def test_clause_3_3_a_concurrent_requests_for_unknown_ids_share_one_walk() -> None:
    tree = TenantTree.generate(seed=7, debtors=3)
    roots = consent_roots(CONFIG, tree.debtors[:2])
    tenants = resolver(tree)
    _, employees = of(tree, tree.debtors[0])
    _, foreign = of(tree, tree.debtors[2])
    asked = [employees[0]] * 10 + employees[:10] + foreign[:5]
    decisions = await asyncio.gather(
        *(decide(tenants, EMPLOYEE, roots, employeeId=employee) for employee in asked)
    )
    assert decisions[:20] == [None] * 20
    assert all(decision is not None for decision in decisions[20:])
    paths = {target.split("?")[0] for target in tree.requests}
    assert paths  # every listing under the consent, none twice
    assert all(tree.walks(path) == 1 for path in paths)
    assert not any(tree.debtors[2] in path for path in paths)


async def test_clause_3_3_a_listings_are_walked_again_only_after_the_refresh_period() -> None:
    tree = TenantTree.generate(seed=8)
    debtor = tree.debtors[0]
    roots = consent_roots(CONFIG, [debtor])
    clock = Clock()
    tenants = resolver(tree, clock, refresh_seconds=30.0)
    companies, (employee, *_) = of(tree, debtor)
    assert await decide(tenants, EMPLOYEE, roots, employeeId=employee) is None
    hired = guid(random.Random(8))
    tree.employees[hired] = companies[0]  # created upstream after the walk
    clock.now += 29
    assert await decide(tenants, EMPLOYEE, roots, employeeId=hired) is not None
    clock.now += 2
    assert await decide(tenants, EMPLOYEE, roots, employeeId=hired) is None
    assert tree.walks(f"/api/companies/{companies[0]}/employees") == 2
    # An employee created through the gateway (POST /api/companies/{companyId}/employees) is
    # found at once: the write makes the next miss walk its company's listing again.
    second = guid(random.Random(9))
    tree.employees[second] = companies[0]
    tenants.written([(CONFIG.kinds["company"], companies[0])])
    assert await decide(tenants, EMPLOYEE, roots, employeeId=second) is None
    assert tree.walks(f"/api/companies/{companies[0]}/employees") == 3
    assert tree.walks(f"/api/debtors/{debtor}/companies") == 2  # refreshed once, at 31 s


async def test_clause_3_3_a_memory_stays_within_its_bound_and_decisions_stay_right() -> None:
    tree = TenantTree.generate(seed=9, debtors=3, companies=4, employees=120)
    roots = consent_roots(CONFIG, tree.debtors[:2])
    tenants = resolver(tree, capacity=100)
    rng = random.Random(9)
    ids = list(tree.employees)
    for employee in rng.sample(ids, 150) + rng.sample(ids, 150):
        refusal = await decide(tenants, EMPLOYEE, roots, employeeId=employee)
        owner = tree.debtor_of_employee(employee)
        assert (refusal is None) == (owner in roots)
        if owner in roots:  # the id just decided is remembered, whatever the walk pushed out
            assert tenants.root_of(CONFIG.kinds["employee"], employee) == owner
        assert all(len(owners) <= 100 for owners in tenants.owners.values())
        assert tenants.rosters.total <= 100
    assert len(tree.employees) > 300


async def test_an_upstream_that_fails_is_an_upstream_error_and_nothing_is_remembered() -> None:
    tree = TenantTree.generate(seed=10)
    debtor = tree.debtors[0]
    roots = consent_roots(CONFIG, [debtor])
    failing = True

    async def flaky(target: str) -> tuple[int, bytes]:
        if failing and "/employees" in target:
            tree.requests.append(target)
            return 503, b"{}"
        return await tree.fetch(target)

    tenants = TenantResolver(CONFIG, flaky)
    _, (employee, *_) = of(tree, debtor)
    with pytest.raises(UpstreamError, match="answered 503"):
        await decide(tenants, EMPLOYEE, roots, employeeId=employee)
    assert employee not in tenants.owners["employee"]
    failing = False
    assert await decide(tenants, EMPLOYEE, roots, employeeId=employee) is None


async def test_listed_items_without_a_valid_id_are_skipped() -> None:
    answers = {
        "/api/debtors/00000000-0000-4000-8000-000000000001/companies": [
            {"companyId": "00000000-0000-4000-8000-00000000000A"},
            {"companyId": "{00000000-0000-4000-8000-00000000000b}"},
            {"companyId": 12},
            {"name": "no id"},
            "junk",
        ]
    }

    async def listing(target: str) -> tuple[int, bytes]:
        items = answers.get(target.split("?")[0])
        if items is None:
            return 404, b"{}"
        return 200, orjson.dumps({"data": items})  # no pagination: one page

    tenants = TenantResolver(CONFIG, listing)
    roots = frozenset({"00000000-0000-4000-8000-000000000001"})
    await tenants.locate(CONFIG.kinds["company"], "00000000-0000-4000-8000-00000000000a", roots)
    assert "00000000-0000-4000-8000-00000000000a" in tenants.owners["company"]
    assert len(tenants.owners["company"]) == 1


@pytest.fixture
async def served() -> AsyncIterator[tuple[TenantTree, UpstreamPool]]:
    upstream = TenantUpstream(tree=TenantTree.generate(seed=11, employees=140))
    port = await upstream.start()
    pool = UpstreamPool("127.0.0.1", port, max_idle=4, connect_timeout=2, timeout=5)
    yield upstream.tree, pool
    await pool.close()
    await upstream.close()


async def test_clause_3_3_a_over_http_through_the_gateways_upstream_pool(
    served: tuple[TenantTree, UpstreamPool],
) -> None:
    tree, pool = served
    settings = Settings(tenancy_capacity=1000, tenancy_refresh_seconds=5)
    tenants = tenant_resolver(settings, pool, "payroll.test")
    assert (tenants.refresh_seconds, tenants.owners["employee"].capacity) == (5, 1000)
    roots = consent_roots(CONFIG, tree.debtors[1:3])
    for employee, company in list(tree.employees.items())[::7]:
        covered = tree.companies[company] in roots
        refusal = await decide(tenants, BOTH, roots, companyId=company, employeeId=employee)
        assert (refusal is None) == covered
    assert all(tree.walks(path) <= 1 for path in {t.split("?")[0] for t in tree.requests})


def test_the_memory_drops_the_least_recently_used_first() -> None:
    memory: BoundedLRU[str, str] = BoundedLRU(3)
    for key in "abc":
        memory.put(key, key.upper())
    assert memory.get("a") == "A"  # now the most recently used
    memory.put("d", "D")
    assert [key in memory for key in "abcd"] == [True, False, True, True]
    memory.put("c", "C2")  # replacing weighs nothing extra
    assert (len(memory), memory.total) == (3, 3)
    memory.discard("c")
    assert (len(memory), memory.total, memory.get("c")) == (2, 2, None)
    weighed: BoundedLRU[str, list[int]] = BoundedLRU(10, len)
    weighed.put("six", [0] * 6)
    weighed.put("five", [0] * 5)
    assert ("six" in weighed, weighed.total) == (False, 5)
    with pytest.raises(ValueError, match="capacity"):
        BoundedLRU(0)


async def test_clause_3_3_a_absence_unproven_when_the_global_listing_fails_is_refused() -> None:
    tree = TenantTree.generate(seed=12)
    roots = consent_roots(CONFIG, [tree.debtors[0]])

    async def no_global_listing(target: str) -> tuple[int, bytes]:
        if target.startswith("/api/companies?"):
            return 403, b'{"code": 40306}'
        return await tree.fetch(target)

    tenants = TenantResolver(CONFIG, no_global_listing)
    nobody = guid(random.Random(12))
    refusal = await decide(tenants, COMPANY, roots, companyId=nobody)
    assert refusal == TenantRefusal("companyId", nobody, "not covered by the consent")
    (own, *_), _ = of(tree, tree.debtors[0])
    assert await decide(tenants, COMPANY, roots, companyId=own) is None


async def test_listing_pages_are_asked_a_few_at_a_time() -> None:
    tree = TenantTree.generate(seed=13, debtors=2, companies=12, employees=5)
    roots = consent_roots(CONFIG, tree.debtors)
    open_now = most = 0

    async def counted(target: str) -> tuple[int, bytes]:
        nonlocal open_now, most
        open_now += 1
        most = max(most, open_now)
        await asyncio.sleep(0.001)
        open_now -= 1
        return await tree.fetch(target)

    tenants = TenantResolver(CONFIG, counted, parallel=3)
    assert await decide(tenants, EMPLOYEE, roots, employeeId=guid(random.Random(13))) is not None
    assert len({t.split("?")[0] for t in tree.requests}) == 2 + len(tree.companies) > 6
    assert most == 3


async def test_clause_3_3_a_a_consent_root_not_in_the_api_s_form_is_refused_not_forwarded() -> None:
    """The gateway's roots are a token's debtors as written, through the resolver: an older
    token's integer debtor ("1001") is no GUID, so a path naming it is refused, not forwarded,
    and no listing is walked under it."""
    tree = TenantTree.generate(seed=3)
    mine = tree.debtors[0]
    tenants = resolver(tree)
    roots = tenants.consent_roots(frozenset({"1001", mine}))
    assert roots == {mine}
    refused = await decide(tenants, DEBTOR, roots, debtorId="1001")
    assert isinstance(refused, TenantRefusal)
    assert (refused.parameter, refused.value) == ("debtorId", "1001")
    assert await decide(tenants, DEBTOR, roots, debtorId=mine.upper()) is None
    (company, *_), _ = of(tree, mine)
    assert await decide(tenants, COMPANY, roots, companyId=company) is None
    only_integers = tenants.consent_roots(frozenset({"1001"}))
    assert only_integers == frozenset()
    assert await decide(tenants, COMPANY, only_integers, companyId=company) is not None
    assert not [target for target in tree.requests if "1001" in target]
