"""The generated payroll world: deterministic per seed, realistic Dutch identifiers, scalable."""

from __future__ import annotations

import time
from dataclasses import asdict

import orjson

from termgate.reference_api import UpstreamApp, generate
from termgate.reference_api.identifiers import bsn_is_valid, iban_is_valid


def _bytes(seed: int) -> bytes:
    data = generate(seed, 300)
    details = [data.details(employee_id) for employee_id in list(data.employee_by_id)[:50]]
    everything = [data.fingerprint(), [asdict(item) for item in details]]
    return orjson.dumps(everything, option=orjson.OPT_NON_STR_KEYS)


def test_same_seed_gives_byte_identical_data() -> None:
    assert _bytes(7) == _bytes(7)


def test_different_seed_gives_different_data() -> None:
    assert _bytes(7) != _bytes(8)


def test_every_iban_has_valid_mod97_check_digits(app: UpstreamApp) -> None:
    ibans = [
        account["iban"]
        for employee_id in list(app.data.employee_by_id)[:500]
        for account in app.data.details(employee_id).bank_accounts
    ]
    assert len(ibans) >= 500
    assert all(iban.startswith("NL") and len(iban) == 18 for iban in ibans)
    assert all(iban_is_valid(iban) for iban in ibans)


def test_iban_check_rejects_a_changed_digit() -> None:
    assert iban_is_valid("NL91ABNA0417164300")
    assert not iban_is_valid("NL91ABNA0417164301")


def test_every_citizen_service_number_passes_the_11_proef(app: UpstreamApp) -> None:
    numbers = [info["citizenServiceNumber"] for info in app.data.personal_info.values()]
    assert all(bsn_is_valid(number) for number in numbers)
    assert not bsn_is_valid("123456789")


def test_hierarchy_is_debtors_companies_employees(app: UpstreamApp) -> None:
    data = app.data
    assert len(data.debtors) == 5
    assert len(data.companies) == 12
    assert len(data.employee_by_id) == 2000
    assert sum(len(staff) for staff in data.employees_by_company.values()) == 2000
    for company in data.companies:
        assert company in data.companies_by_debtor[company["debtorId"]]
        assert company["employeeCount"] == len(data.employees_by_company[company["id"]])


def test_salaries_are_in_euro_and_current_salary_is_open_ended(app: UpstreamApp) -> None:
    details = app.data.details(next(iter(app.data.employee_by_id)))
    assert all(salary["grossAmount"]["currency"] == "EUR" for salary in details.salaries)
    assert details.current_salary["endDate"] is None


def test_end_users_have_stable_ids_and_cover_one_or_two_debtors(app: UpstreamApp) -> None:
    users = app.data.end_users
    assert [user.id for user in users] == list(range(1, len(users) + 1))
    assert any(len(user.debtor_ids) == 1 for user in users)
    assert any(len(user.debtor_ids) == 2 for user in users)
    assert all(set(user.debtor_ids) <= set(app.data.debtor_by_id) for user in users)
    assert [user.username for user in generate(20260401, 100).end_users] == [
        user.username for user in users
    ]


def test_one_hundred_thousand_employees_generate_quickly() -> None:
    started = time.perf_counter()
    data = generate(1, 100_000)
    elapsed = time.perf_counter() - started
    assert len(data.employee_by_id) == 100_000
    assert elapsed < 20, f"generating 100,000 employees took {elapsed:.1f} s"
