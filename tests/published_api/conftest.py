"""One published-contract API per test module, on a free loopback port, and what reads it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from termgate.published_api import LoopbackServer, Operation, create_app
from termgate.published_api.contract import document
from termgate.published_api.validation import pointer, response_errors

SEED = 20260401
EMPLOYEES = 2000


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(create_app(SEED, EMPLOYEES)) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: LoopbackServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def answer_errors(operation: Operation, response: httpx.Response) -> list[str]:
    """How an answer departs from the document: its status, media type and schema."""
    responses = _responses(operation)
    status = str(response.status_code)
    if status not in responses:
        return [f"status {status} is not declared for {operation.operation_id}"]
    content = responses[status].get("content") or {}
    if not content:
        return [] if not response.content else [f"{status} declares no body"]
    media_type = response.headers.get("content-type", "").split(";")[0]
    if media_type not in content:
        return [f"{media_type} is not among {sorted(content)}"]
    if media_type != "application/json":
        return []
    ref = f"{responses[status]['ref']}/content/application~1json/schema"
    return response_errors(ref, response.json())


def _responses(operation: Operation) -> dict[str, Any]:
    entry = document()["paths"][operation.template][operation.method.lower()]["responses"]
    found = {}
    for status, value in entry.items():
        if "$ref" in value:
            name = value["$ref"].rsplit("/", 1)[1]
            ref = pointer("components", "responses", name)
            value = document()["components"]["responses"][name]
        else:
            ref = pointer(
                "paths", operation.template, operation.method.lower(), "responses", status
            )
        found[status] = {**value, "ref": ref}
    return found
