"""A gateway that reads its OpenAPI document from a file (TERMGATE_OPENAPI_PATH) rather than from
the upstream: another provider's scheme name, write scopes satisfying reads, operations outside
the file refused, and what it could not use shown in `/readyz` (clauses 3.2 and 3.3 e)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.gateway.conftest import gateway_process, wait_for_status
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import issue_test_access

# The echo upstream's own document has /api/stream too; this file leaves it out.
DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "echo, as a partner describes it", "version": "1"},
    "components": {
        "securitySchemes": {"PartnerAuth": {"type": "oauth2", "flows": {}}},
        "parameters": {"Id": {"name": "ID", "in": "path", "required": True}},
    },
    "paths": {
        "/api/echo": {
            "get": {"operationId": "echoRead", "security": [{"PartnerAuth": ["echo.read"]}]},
            "post": {"operationId": "echoWrite", "security": [{"PartnerAuth": ["echo"]}]},
        },
        "/api/slow/{id}": {
            "parameters": [{"$ref": "#/components/parameters/Id"}],
            "get": {"operationId": "slow", "security": [{"PartnerAuth": ["echo.read"]}]},
        },
    },
}


async def ready_api(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """`/readyz`'s `api` once the validator has run (it runs after the gateway starts)."""
    for _ in range(100):
        api: dict[str, Any] = (await client.get(f"{url}/readyz")).json()["api"]
        if api["not_valid_openapi"] is not None:
            return api
        await asyncio.sleep(0.1)
    raise AssertionError("the validator did not report")


async def test_clause_3_2_the_gateway_serves_the_document_in_its_file(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    file = tmp_path / "partner-api.yaml"
    file.write_text(yaml.safe_dump(DOCUMENT))
    access = await issue_test_access(sessions, scope="echo")  # the write scope only
    async with gateway_process(database_url, echo_upstream[1], openapi_path=str(file)) as gateway:
        url = f"{gateway.url}/api/echo"
        await wait_for_status(client, url, access.key.key, 200, token=access.token.token)
        refused = await client.get(f"{gateway.url}/api/stream", headers=access.headers)
        assert (refused.status_code, refused.json()["code"]) == (404, 40401)
        api = await ready_api(client, gateway.url)
    assert api["source"] == str(file)
    assert api["operations"] == 3
    assert api["not_used_as_written"] == [
        "GET /api/slow/{id}: path parameter 'ID' is declared for the template's {id} (the case "
        "differs); the template is matched as written",
        "GET /api/slow/{id}: the tenancy configuration does not describe {id}; refused (clause "
        "3.3 a)",
    ]
    assert any("ID" in line for line in api["not_valid_openapi"])
