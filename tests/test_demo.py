"""`termgate demo`: one command serves the reference API of the published contract behind the
gateway with a working key, and a banner whose `curl` lines answer."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import httpx

from termgate.reference_api import generate
from tests.conftest import free_port
from tests.support.processes import serving

# The demo seeds the Wednesday-evening window of clause 8; a run then would meet 503s.
NO_WINDOW = ["--no-maintenance"]
SEED, EMPLOYEES = 20260401, 200  # the settings' default seed; a small world starts faster


def printed_lines(process: subprocess.Popen[bytes], last: str) -> list[str]:
    """The demo's output up to the first line containing `last` (all of it if none does)."""
    assert process.stdout is not None
    lines = []
    for raw in iter(process.stdout.readline, b""):
        lines.append(raw.decode())
        if last in lines[-1]:
            break
    return lines


async def test_clause_2_demo_serves_the_published_contract_with_its_key_and_refuses_without(
    tmp_path: Path,
) -> None:
    port, upstream_port = free_port(), free_port()
    env = {
        "TERMGATE_VAR_DIR": str(tmp_path),
        "TERMGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        "TERMGATE_PORT": str(port),
        "TERMGATE_UPSTREAM_PORT": str(upstream_port),
        "TERMGATE_SMTP_PORT": str(free_port()),
        "TERMGATE_EMPLOYEES": str(EMPLOYEES),
        "COLUMNS": "200",
    }
    base = f"http://127.0.0.1:{port}"
    world = generate(SEED, EMPLOYEES)
    first, second = world.debtors[:2]
    async with (
        serving(["-m", "termgate", "demo", *NO_WINDOW], f"{base}/healthz", env) as process,
        httpx.AsyncClient(base_url=base, timeout=10) as client,
    ):
        credentials = json.loads((tmp_path / "demo-credentials.json").read_text())
        key, token = credentials["subscription_key"], credentials["access_token"]
        assert credentials["gateway_url"] == base
        # The logins see real debtors of the published API's world (GUIDs, clause 3.3 a).
        logins = credentials["end_users"]
        assert logins[0]["debtors"] == [first.id]
        assert max(len(login["debtors"]) for login in logins) == 2
        assert {d for login in logins for d in login["debtors"]} == set(world.debtor_by_id)
        auth = {"X-Subscription-Key": key, "Authorization": f"Bearer {token}"}

        debtors = await client.get("/api/debtors", headers=auth)
        assert debtors.status_code == 200, debtors.text
        assert debtors.json()["data"] == [
            {"debtorId": first.id, "number": first.number, "name": first.name}
        ]  # only the consented customer, named as the API names it
        companies = await client.get(f"/api/debtors/{first.id}/companies", headers=auth)
        assert companies.status_code == 200, companies.text
        assert {c["companyId"] for c in companies.json()["data"]} == {
            c.id for c in world.companies_of(first)
        }
        company = world.companies_of(first)[0].id
        employees = await client.get(
            f"/api/companies/{company}/employees", params={"pageSize": 5}, headers=auth
        )
        assert employees.status_code == 200, employees.text
        assert len(employees.json()["data"]) == 5
        other = await client.get(f"/api/debtors/{second.id}/companies", headers=auth)
        assert other.status_code == 403, other.text  # a customer not consented

        refused = await client.get("/api/debtors")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/json"  # as the contract's errors
        assert refused.json()["clause"] == "2"

        header = f"-H 'X-Subscription-Key: {key}' -H 'Authorization: Bearer {token}'"
        printed = await asyncio.to_thread(printed_lines, process, "Press Ctrl-C")
        curls = [line.strip() for line in printed if line.strip().startswith("curl ")]
        assert curls == [
            f"curl -s {header} '{base}/api/debtors'",
            f"curl -s {header} '{base}/api/debtors/{first.id}/companies'",
            f"curl -s {header} '{base}/api/companies/{company}/employees?pageSize=5'",
            f"curl -s {base}/api/debtors",
        ]
