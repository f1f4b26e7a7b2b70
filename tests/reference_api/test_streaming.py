"""Document content is streamed in chunks, without a Content-Length, at the declared size."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from termgate.reference_api import UpstreamApp

EMPLOYEE = "/api/companies/2001/employees/100001"


async def _call(app: UpstreamApp, path: str) -> list[dict[str, Any]]:
    """Every ASGI message the app sends for a GET of `path`."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}
    await app(scope, receive, send)
    return sent


async def test_document_content_is_sent_in_chunks_without_content_length(
    app: UpstreamApp,
) -> None:
    document = app.data.details(100001).documents[1]
    assert 1_000_000 <= document["size"] <= 4_000_000
    start, *bodies = await _call(app, f"{EMPLOYEE}/documents/{document['id']}/content")
    headers = dict(start["headers"])
    assert start["status"] == 200
    assert b"content-length" not in headers
    assert headers[b"content-type"] == b"application/pdf"
    assert len(bodies) > 10
    assert all(message["more_body"] for message in bodies[:-1])
    assert not bodies[-1].get("more_body", False)
    body = b"".join(message["body"] for message in bodies)
    assert len(body) == document["size"]
    assert body.startswith(b"%PDF-")


async def test_json_answers_carry_content_length(app: UpstreamApp) -> None:
    start, body = await _call(app, "/api/debtors")
    assert dict(start["headers"])[b"content-length"] == str(len(body["body"])).encode()


async def test_document_content_is_the_same_every_time(client: httpx.AsyncClient) -> None:
    listed = (await client.get(EMPLOYEE + "/documents")).json()["data"][0]
    url = f"{EMPLOYEE}/documents/{listed['id']}/content"
    digests = {hashlib.sha256((await client.get(url)).content).hexdigest() for _ in range(2)}
    assert len(digests) == 1


async def test_document_metadata_is_served_by_id(client: httpx.AsyncClient) -> None:
    listed = (await client.get(EMPLOYEE + "/documents")).json()["data"][0]
    assert (await client.get(f"{EMPLOYEE}/documents/{listed['id']}")).json() == listed
