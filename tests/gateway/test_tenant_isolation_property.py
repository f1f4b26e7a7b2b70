"""Clause 3.3 a as a property: whatever the end user consented to and whatever a client asks
for, no answer through the gateway holds another debtor's data.

Random end users' consents (subsets of the reference data's debtors) and random requests of the
reference API's read operations (ids of consented and other tenants, unknown and malformed ids,
page sizes) go through a real gateway to the real reference upstream. Every answer must either
refuse, or hold only debtors and companies the consent covers; a request that names another
tenant in its path is always refused 403. A fresh seed each run (printed); failures are kept
in hypothesis' database. The operation the upstream actually served is checked against the one
the gateway authorised in `test_authorised_operation_property`.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.reference_api import ROUTES
from tests.gateway.conftest import Gateway, wait_for_status
from tests.support.factories import issue_test_key, issue_test_token

DEBTORS = (1001, 1002, 1003, 1004, 1005)
CONSENTS = [
    frozenset(subset)
    for size in range(1, len(DEBTORS) + 1)
    for subset in itertools.combinations(DEBTORS, size)
]
READS = [route for route in ROUTES if route.method == "GET"]
DEBTOR_RECORDS = {"listDebtors", "getDebtor"}
COMPANY_RECORDS = {"listCompanies", "getCompany", "listDebtorCompanies"}


def records(body: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in an answer, nested ones included."""
    if isinstance(body, dict):
        yield body
        for value in body.values():
            yield from records(value)
    elif isinstance(body, list):
        for value in body:
            yield from records(value)


async def test_clause_3_3_a_no_answer_holds_data_outside_the_consent(
    payroll_gateway: Gateway,
    payroll_upstream: str,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # What exists upstream, read directly (the gateway is what is under test).
    companies = (await client.get(f"{payroll_upstream}/api/companies?pageSize=100")).json()
    owner = {company["id"]: company["debtorId"] for company in companies["data"]}
    staff: dict[int, list[str]] = {}
    for company in owner:
        page = await client.get(f"{payroll_upstream}/api/companies/{company}/employees?pageSize=2")
        staff[company] = [str(employee["id"]) for employee in page.json()["data"]]

    key = await issue_test_key(sessions)
    tokens = {
        consent: (
            await issue_test_token(
                sessions, key.application_id, debtors=tuple(map(str, sorted(consent)))
            )
        )
        for consent in CONSENTS
    }
    first = tokens[CONSENTS[0]].token
    await wait_for_status(client, f"{payroll_gateway.url}/api/debtors", key.key, 200, token=first)

    # Unknown, non-canonical, non-ASCII-digit (Arabic-Indic, full-width) and GUID ids.
    odd_debtors = ["1006", "0", "01001", "١٠٠١", "１００１", str(uuid.UUID(int=1001))]
    odd_companies = ["99999", "02001", "x", "٢٠٠١", "２００１", str(uuid.uuid4())]

    @st.composite
    def requests(draw: st.DrawFn, consent: frozenset[int]) -> tuple[Any, str, dict[str, str]]:
        """A read of the API; its ids mostly of the consented tenants, sometimes of others,
        sometimes of none."""
        route = draw(st.sampled_from(READS))
        mine = [company for company, debtor in owner.items() if debtor in consent]
        debtor = draw(st.sampled_from(sorted(consent)) | st.sampled_from([*DEBTORS, *odd_debtors]))
        company = draw(st.sampled_from(mine) | st.sampled_from([*owner, *odd_companies]))
        employees = staff.get(company, []) if isinstance(company, int) else []
        values = {
            "debtorId": str(debtor),
            "companyId": str(company),
            "employeeId": draw(st.sampled_from([*employees, "1"])),
            "documentId": draw(st.sampled_from(["1", "doc-1"])),
        }
        path = route.template
        for name in route.path_params:
            path = path.replace("{" + name + "}", values[name])
        chosen = {name: values[name] for name in route.path_params}
        if route.kind == "list":
            size = draw(st.sampled_from([None, "1", "5", "100"]))
            if size:
                chosen["pageSize"] = size
        return route, path, chosen

    def covered(consent: frozenset[int], values: dict[str, str]) -> bool:
        debtor, company = values.get("debtorId"), values.get("companyId")
        if debtor is not None and not (debtor.isdigit() and str(int(debtor)) == debtor):
            return False
        if debtor is not None and int(debtor) not in consent:
            return False
        if company is not None:  # a company that exists nowhere goes on to the API's own 404
            if not (company.isdigit() and str(int(company)) == company):
                return False
            return owner.get(int(company), next(iter(consent))) in consent
        return True

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data(), consent=st.sampled_from(CONSENTS))
    def property(data: st.DataObject, consent: frozenset[int]) -> None:
        route, path, values = data.draw(requests(consent))
        query = {name: value for name, value in values.items() if name == "pageSize"}
        headers = tokens[consent].headers(key.key)
        with httpx.Client(base_url=payroll_gateway.url, timeout=10) as sync_client:
            response = sync_client.get(path, params=query, headers=headers)
        label = f"{route.operation_id} {path} for {sorted(consent)}"
        assert response.status_code < 500, f"{label}: {response.text}"
        if not covered(consent, values):
            assert response.status_code == 403, f"{label}: {response.status_code}"
            assert response.json()["code"] == 40303, label
            return
        if response.status_code != 200 or "json" not in response.headers["content-type"]:
            return
        for record in records(response.json()):
            if "debtorId" in record:
                assert record["debtorId"] in consent, f"{label}: {record}"
            if "companyId" in record:
                assert owner.get(record["companyId"]) in consent, f"{label}: {record}"
            if route.operation_id in DEBTOR_RECORDS and "debtorNumber" in record:
                assert record["id"] in consent, f"{label}: {record}"
            if route.operation_id in COMPANY_RECORDS and "debtorId" in record:
                assert owner.get(record["id"]) in consent, f"{label}: {record}"

    try:
        await asyncio.to_thread(property)
    finally:
        seed = getattr(property, "_hypothesis_internal_use_generated_seed", None)
        print(f"hypothesis seed: {seed} (rerun with --hypothesis-seed={seed})")
