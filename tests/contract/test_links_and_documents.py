"""Two ways out of a customer's data that the tenant check of path ids does not see.

- The pagination envelope's links (`firstPage`, `lastPage`, `nextPage`, `previousPage`) are
  absolute URLs; a client that follows them must come back to the gateway, never be sent to the
  upstream's own address (where no key, consent or limit applies, or which it cannot reach).
- A document download answers a `taskId`, fetched later from `GET /api/documents/{taskId}`: the
  id is not a tenant parameter (the gateway's tenancy takes it as issued to the caller that asked
  for the document), so a task id of one customer's payslip must not give another customer's
  token that payslip.

The gateway forwards with `host:` the upstream's, and with `X-Forwarded-Host` and
`X-Forwarded-Proto` naming its own public URL (those a client sends are replaced), from which the
reference API builds its links. `GET /api/documents/{taskId}` is forwarded whatever the consent
(`taskId` is untenanted in `published.toml`): the reference API binds a task to the debtors of
the `X-Termgate-Debtors` it is fetched under, and answers its own 404 to any other consent.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from tests.contract.conftest import Contract
from tests.support.factories import TEST_ISSUER
from tests.support.published_answers import YEAR

LINKS = ("firstPage", "lastPage", "nextPage", "previousPage")


async def test_clause_3_2_pagination_links_lead_back_to_the_gateway(contract: Contract) -> None:
    customer = contract.customers.debtors[0]
    headers = await contract.headers(customer)
    company = max(contract.customers.companies[customer],
                  key=lambda c: len(contract.customers.employees[c]))  # fmt: skip
    async with httpx.AsyncClient(base_url=contract.gateway, headers=headers) as client:
        page = await client.get(f"/api/companies/{company}/employees?pageSize=10&pageNumber=2")
    assert page.status_code == 200, page.text
    pagination = page.json()["pagination"]
    origins = {urlsplit(contract.gateway).netloc, urlsplit(TEST_ISSUER).netloc}
    leading = {name: urlsplit(pagination[name]).netloc for name in LINKS}
    assert all(netloc in origins for netloc in leading.values()), (
        f"links lead to {leading}, not to the gateway ({origins}); the upstream is "
        f"{urlsplit(contract.upstream).netloc}"
    )


async def test_clause_3_2_a_client_s_forwarding_headers_do_not_steer_the_links(
    contract: Contract,
) -> None:
    customer = contract.customers.debtors[0]
    company = contract.customers.companies[customer][0]
    spoofed = {
        **await contract.headers(customer),
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Port": "4443",
    }
    async with httpx.AsyncClient(base_url=contract.gateway, headers=spoofed) as client:
        page = await client.get(f"/api/companies/{company}/employees?pageSize=1")
    assert page.status_code == 200, page.text
    public = urlsplit(TEST_ISSUER)
    first = urlsplit(page.json()["pagination"]["firstPage"])
    assert (first.scheme, first.netloc) == (public.scheme, public.netloc)


async def test_clause_3_3_a_a_task_id_of_one_customer_gives_another_no_document(
    contract: Contract,
) -> None:
    owner, other = contract.customers.debtors[0], contract.customers.debtors[1]
    company = contract.customers.companies[owner][0]
    employee = contract.customers.employees[company][0]
    async with httpx.AsyncClient(base_url=contract.gateway) as client:
        asked = await client.get(
            f"/api/employees/{employee}/payslipperperiod?year={YEAR}",
            headers=await contract.headers(owner),
        )
        assert asked.status_code == 200, asked.text
        task = asked.json()["taskId"]
        theirs = await client.get(f"/api/documents/{task}", headers=await contract.headers(other))
    assert theirs.status_code in (403, 404), (
        f"{theirs.status_code}: customer {other} read {theirs.headers.get('content-disposition')}"
        f" of employee {employee} of customer {owner}"
    )
