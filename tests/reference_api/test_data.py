"""The generated world: deterministic per seed, realistic Dutch payroll, consistent parents and
children, filtered by the gateway's debtor header, and the shipped copy of the document."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import httpx
import pytest

from termgate.core.wire import DEBTORS_HEADER, USER_HEADER
from termgate.reference_api import CONTRACT_PATH, create_app, generate, records
from termgate.reference_api import app as app_module
from termgate.reference_api.dutch import bsn_is_valid, iban_is_valid
from tests.reference_api.conftest import SEED

# `../shared` of the repository: /work/main/../shared, or from a worktree /work/wt/NAME/../../shared
_ROOT = Path(__file__).resolve().parents[2]
SHARED = [
    root / "shared" / "contract" / "payroll-api-openapi.yaml"
    for root in (_ROOT.parent, _ROOT.parents[1])
]


def test_the_shipped_contract_is_the_shared_one_byte_for_byte() -> None:
    for path in (path for path in SHARED if path.exists()):
        assert path.read_bytes() == CONTRACT_PATH.read_bytes()
    assert CONTRACT_PATH.read_bytes().startswith(b"openapi: 3.0.1")
    assert (CONTRACT_PATH.parent / "README.md").read_text().count("Apache License 2.0") == 1


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    one, two = generate(SEED, 2000), generate(SEED, 2000)
    assert one.debtors == two.debtors
    assert one.companies == two.companies
    assert [one.person(i) for i in (0, 999, 1999)] == [two.person(i) for i in (0, 999, 1999)]
    assert generate(SEED + 1, 2000).companies[0].id != one.companies[0].id


async def test_the_same_seed_gives_the_same_answers() -> None:
    paths = ["/api/debtors", "/api/companies"]
    answers = []
    for _ in range(2):
        transport = httpx.ASGITransport(create_app(7, 300))
        async with httpx.AsyncClient(transport=transport, base_url="http://p.test") as client:
            company = (await client.get("/api/companies")).json()["data"][0]["companyId"]
            views = [f"/api/companies/{company}/employees/{v}" for v in ("contracts", "salaries")]
            answers.append([(await client.get(path)).content for path in paths + views])
    assert answers[0] == answers[1]


def test_people_look_dutch_and_their_numbers_pass_their_checks(client: httpx.Client) -> None:
    company = client.get("/api/companies").json()["data"][0]["companyId"]
    base = f"/api/companies/{company}/employees"
    people = client.get(f"{base}/personalinfo?pageSize=100").json()["data"]
    prefixes = {item["info"][0]["basicInfo"]["prefix"] for item in people}
    assert prefixes & {"van", "de", "van der", "van den", "van de", "ter", "den", "te"}
    bsns = [item["privateInfos"][0]["BSN"] for item in
            client.get(f"{base}/privateInfos?pageSize=100").json()["data"]]  # fmt: skip
    assert bsns
    assert all(bsn_is_valid(bsn) for bsn in bsns)
    accounts = client.get(f"{base}/bankaccounts?pageSize=100").json()["data"]
    ibans = [account["IBAN"] for item in accounts for account in item["bankAccounts"]]
    assert ibans
    assert all(iban.startswith("NL") and iban_is_valid(iban) for iban in ibans)
    addresses = client.get(f"{base}/addresses?pageSize=100").json()["data"]
    postcodes = [a["postalCode"] for item in addresses for a in item["addresses"]]
    assert all(re.fullmatch(r"[1-9][0-9]{3} [A-Z]{2}", code) for code in postcodes)
    salaries = client.get(f"{base}/salaries?pageSize=100").json()["data"]
    assert all(item["salaries"] for item in salaries)


def test_listings_hand_out_ids_the_other_endpoints_accept(client: httpx.Client) -> None:
    companies = client.get("/api/companies?pageSize=100").json()["data"]
    debtors = client.get("/api/debtors").json()["data"]
    by_debtor: dict[str, set[str]] = {}
    for debtor in debtors:
        listed = client.get(f"/api/debtors/{debtor['debtorId']}/companies?pageSize=100").json()
        by_debtor[debtor["debtorId"]] = {c["companyId"] for c in listed["data"]}
        assert {c["debtorId"] for c in listed["data"]} <= {debtor["debtorId"]}
    for company in companies:
        assert company["companyId"] in by_debtor[company["debtorId"]]
        uuid.UUID(company["companyId"])
    company = companies[2]["companyId"]
    employees = client.get(f"/api/companies/{company}/employees?pageSize=3").json()["data"]
    for employee in employees:
        employee_id = employee["employeeId"]
        info = client.get(f"/api/employees/{employee_id}").json()["data"][0]
        assert info["employeeId"] == employee_id
        contracts = client.get(f"/api/companies/{company}/employees/contracts",
                               params={"employeeId": employee_id}).json()["data"]  # fmt: skip
        assert [item["employeeId"] for item in contracts] == [employee_id]


def test_the_gateways_debtor_header_filters_the_cross_debtor_listings(
    client: httpx.Client,
) -> None:
    debtors = [d["debtorId"] for d in client.get("/api/debtors").json()["data"]]
    assert len(debtors) >= 2
    headers = {DEBTORS_HEADER: f"{debtors[0]},{debtors[1]}"}
    shown = client.get("/api/debtors", headers=headers).json()["data"]
    assert [d["debtorId"] for d in shown] == debtors[:2]
    companies = client.get("/api/companies", headers=headers).json()["data"]
    assert companies
    assert {c["debtorId"] for c in companies} <= set(debtors[:2])
    every = client.get("/api/companies").json()["pagination"]["totalRecords"]
    assert len(companies) < every
    info = client.get("/api/debtors/info", headers={DEBTORS_HEADER: debtors[2]}).json()["data"]
    assert [item["debtor"]["debtorId"] for item in info] == [debtors[2]]


def test_a_hundred_thousand_employees_start_fast_and_the_last_one_is_found() -> None:
    started = time.perf_counter()
    world = generate(SEED, 100_000)
    assert time.perf_counter() - started < 10
    last = world.companies[-1]
    index = last.first_employee + last.employee_count - 1
    assert index == 99_999
    person = world.person(index)
    assert world.employee_index(person.id) == index
    assert world.employee_index(str(uuid.uuid4())) is None


def test_references_name_records_of_the_companys_and_debtors_listings(
    client: httpx.Client,
) -> None:
    company = client.get("/api/companies").json()["data"][0]
    base = f"/api/companies/{company['companyId']}"
    centers = {c["costCenterId"] for c in client.get(f"{base}/costCenters").json()["data"]}
    debtor = f"/api/debtors/{company['debtorId']}"
    departments = {d["departmentId"] for d in client.get(f"{debtor}/departments").json()["data"]}
    employees = client.get(f"{base}/employees?pageSize=10").json()["data"]
    used_centers, used_departments = set(), set()
    for employee in employees:
        hours = client.get(f"/api/employees/{employee['employeeId']}/fixedhours").json()["data"]
        used_centers |= {item["costCenterId"] for item in hours}
    for item in client.get(f"{base}/employees/departments?pageSize=10").json()["data"]:
        used_departments |= {d["departmentId"] for d in item["departments"]}
    assert used_centers
    assert used_centers <= centers
    assert used_departments
    assert used_departments <= departments


def test_created_from_keeps_only_records_created_since(client: httpx.Client) -> None:
    company = client.get("/api/companies").json()["data"][0]["companyId"]
    path = f"/api/companies/{company}/employees/contracts"
    every = client.get(path, params={"pageSize": 100}).json()["data"]
    moments = sorted(c["createdAt"] for item in every for c in item["contracts"])
    middle = moments[len(moments) // 2]
    recent = client.get(path, params={"pageSize": 100, "createdFrom": middle}).json()["data"]
    kept = [c["createdAt"] for item in recent for c in item["contracts"]]
    assert kept
    assert all(moment >= middle for moment in kept)
    assert len(kept) == len([m for m in moments if m >= middle])


def test_the_document_itself_is_served_as_yaml_and_as_json(client: httpx.Client) -> None:
    assert client.get("/openapi.yaml").content == CONTRACT_PATH.read_bytes()
    as_json = client.get("/openapi.json").json()
    assert as_json["info"]["title"] == "Nmbrs Public REST API"
    assert len(as_json["paths"]) == 111


def test_user_info_speaks_for_the_user_the_gateway_names(client: httpx.Client) -> None:
    world = generate(SEED, 2000)
    accountant = world.end_users[-1]
    headers = {USER_HEADER: accountant.id}
    info = client.get("/api/user/info", headers=headers).json()["data"]
    assert [item["debtorId"] for item in info] == list(accountant.debtor_ids)
    assert {item["email"] for item in info} == {accountant.email}
    narrowed = {**headers, DEBTORS_HEADER: accountant.debtor_ids[1]}
    info = client.get("/api/user/info", headers=narrowed).json()["data"]
    assert [item["debtorId"] for item in info] == [accountant.debtor_ids[1]]
    stranger = {USER_HEADER: str(uuid.uuid4())}
    assert client.get("/api/user/info", headers=stranger).json()["data"] == []
    assert len(client.get("/api/user/info").json()["data"]) == 1


async def test_memory_stays_bounded_however_much_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "MEMO_LIMIT", 40)
    monkeypatch.setattr(app_module, "CACHE_BYTES", 50_000)
    app = create_app(SEED, 2000)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://p.test") as client:
        for company in app.api.world.companies:
            for view in ("", "/contracts", "/addresses"):
                path = f"/api/companies/{company.id}/employees{view}"
                assert (await client.get(path)).status_code == 200
    assert len(app.api.records._memo) <= 40
    assert app._cache_bytes <= 50_000 or len(app._cache) == 1


def test_year_and_period_date_the_records_without_changing_them(client: httpx.Client) -> None:
    company = client.get("/api/companies").json()["data"][0]["companyId"]
    employee = client.get(f"/api/companies/{company}/employees").json()["data"][0]["employeeId"]
    path = f"/api/employees/{employee}/fixedhours"
    now = client.get(path).json()["data"]
    then = client.get(path, params={"year": 2023, "period": 7}).json()["data"]
    assert [r["hourComponentId"] for r in then] == [r["hourComponentId"] for r in now]
    components = f"/api/companies/{company}/variablewagecomponents"
    dated = client.get(components, params={"year": 2023}).json()["data"]
    assert dated
    assert {r["period"]["year"] for r in dated} == {2023}
    runs = client.get(f"/api/companies/{company}/runs", params={"year": 2024}).json()["data"]
    assert runs
    assert {run["year"] for run in runs} == {2024}
