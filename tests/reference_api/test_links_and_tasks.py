"""What a gateway in front of the API relies on: the pagination links name the origin its
`X-Forwarded-Host` / `X-Forwarded-Proto` give (only well-formed ones), and a task id fetched
under `X-Termgate-Debtors` renders only a document of those debtors (clause 3.3 a)."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from termgate.core.wire import DEBTORS_HEADER
from termgate.reference_api import LoopbackServer
from termgate.reference_api.origin import forwarded_host, forwarded_proto, origin

LINKS = ("firstPage", "lastPage", "nextPage", "previousPage")
MALICIOUS_HOSTS = [
    "evil.example/phish",  # a path
    "evil.example?x=",  # a query
    "user@evil.example",  # credentials
    "evil.example, termgate.test",  # a list (a chain of proxies)
    "evil.example:80:81",
    "evil.example:123456",
    "evil example",
    "<script>alert(1)</script>",
    '"evil.example"',
    "[::1]",
    "",
    "a" * 254,
]


@pytest.fixture(scope="module")
def listing(client: httpx.Client) -> str:
    company = client.get("/api/companies").json()["data"][0]["companyId"]
    return f"/api/companies/{company}/employees?pageSize=2&pageNumber=2"


def _origins(client: httpx.Client, path: str, headers: dict[str, str]) -> set[str]:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    pagination = response.json()["pagination"]
    links = [urlsplit(pagination[name]) for name in LINKS]
    assert all(link.path == urlsplit(path).path for link in links)
    return {f"{link.scheme}://{link.netloc}" for link in links}


def test_links_name_the_host_the_request_came_to_without_forwarding_headers(
    client: httpx.Client, server: LoopbackServer, listing: str
) -> None:
    assert _origins(client, listing, {}) == {server.url}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Forwarded-Host": "api.example.nl", "X-Forwarded-Proto": "https"},
         "https://api.example.nl"),
        ({"X-Forwarded-Host": "termgate.test:8443"}, "http://termgate.test:8443"),
        ({"X-Forwarded-Proto": "HTTPS"}, None),  # the request's own host, over https
    ],
)  # fmt: skip
def test_links_name_the_gateway_s_public_origin_when_it_forwards(
    client: httpx.Client,
    server: LoopbackServer,
    listing: str,
    headers: dict[str, str],
    expected: str | None,
) -> None:
    own = urlsplit(server.url).netloc
    assert _origins(client, listing, headers) == {expected or f"https://{own}"}


@pytest.mark.parametrize("host", MALICIOUS_HOSTS)
def test_a_forwarded_host_that_is_not_one_host_is_ignored_never_echoed(
    client: httpx.Client, server: LoopbackServer, listing: str, host: str
) -> None:
    origins = _origins(client, listing, {"X-Forwarded-Host": host, "X-Forwarded-Proto": "https"})
    assert origins == {f"https://{urlsplit(server.url).netloc}"}


@pytest.mark.parametrize("proto", ["javascript", "ftp", "https, http", "https://evil", ""])
def test_a_forwarded_proto_other_than_http_or_https_is_ignored(
    client: httpx.Client, listing: str, proto: str
) -> None:
    origins = _origins(
        client, listing, {"X-Forwarded-Host": "termgate.test", "X-Forwarded-Proto": proto}
    )
    assert origins == {"http://termgate.test"}


def test_origin_prefers_checked_forwarded_values() -> None:
    assert origin("http", "127.0.0.1:8001", None, None) == "http://127.0.0.1:8001"
    host, proto = forwarded_host(b"Api-1.example.NL:443"), forwarded_proto(b"https")
    assert origin("http", "127.0.0.1:8001", host, proto) == "https://Api-1.example.NL:443"
    assert forwarded_host(b"evil.example\r\nset-cookie: x") is None
    assert forwarded_host(b"evil.example\n") is None
    assert forwarded_host("bücher.example".encode()) is None
    assert forwarded_proto(b"https\n") is None


def _task(client: httpx.Client, employee: str, debtors: str) -> str:
    started = client.get(
        f"/api/employees/{employee}/payslipperperiod",
        params={"year": 2025, "period": 3},
        headers={DEBTORS_HEADER: debtors},
    )
    assert started.status_code == 200, started.text
    return str(started.json()["taskId"])


def test_clause_3_3_a_a_task_id_renders_only_under_its_owner_s_debtors(
    client: httpx.Client,
) -> None:
    debtors = [d["debtorId"] for d in client.get("/api/debtors").json()["data"]]
    owner, other = debtors[0], debtors[1]
    company = client.get(f"/api/debtors/{owner}/companies").json()["data"][0]["companyId"]
    employee = client.get(f"/api/companies/{company}/employees").json()["data"][0]["employeeId"]
    task = _task(client, employee, owner)
    url = f"/api/documents/{task}"
    for allowed in (None, owner, f"{other},{owner.upper()}"):
        headers = {} if allowed is None else {DEBTORS_HEADER: allowed}
        assert client.get(url, headers=headers).status_code == 200, allowed
    for refused in (other, ",".join(debtors[1:]), ""):
        answer = client.get(url, headers={DEBTORS_HEADER: refused})
        assert answer.status_code == 404, refused
        assert answer.json()["code"] == 40401
        assert "content-disposition" not in answer.headers


def test_clause_3_3_a_a_company_task_renders_only_under_its_owner_s_debtors(
    client: httpx.Client,
) -> None:
    debtors = [d["debtorId"] for d in client.get("/api/debtors").json()["data"]]
    owner, other = debtors[0], debtors[1]
    company = client.get(f"/api/debtors/{owner}/companies").json()["data"][0]["companyId"]
    run = client.get(f"/api/companies/{company}/runs").json()["data"][0]["payrollRunId"]
    task = client.get(f"/api/companies/{company}/runs/{run}/sepa", params={"year": 2025})
    url = f"/api/documents/{task.json()['taskId']}"
    assert client.get(url, headers={DEBTORS_HEADER: owner}).status_code == 200
    assert client.get(url, headers={DEBTORS_HEADER: other}).status_code == 404
