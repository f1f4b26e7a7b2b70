"""Every GET operation of the published document answers within its declared schema, with the
ids the listings hand out."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import httpx
import pytest

from termgate.reference_api import Operation, create_app, operations
from tests.reference_api.conftest import SEED
from tests.support.published_answers import YEAR, answer_errors, listed_ids

GETS = [op for op in operations() if op.method == "GET"]


@pytest.fixture(scope="module")
def ids(client: httpx.Client) -> dict[str, str]:
    """One id of every kind a path takes, each taken from a listing that hands it out."""
    return listed_ids(client.get)


def test_every_operation_of_the_document_is_served() -> None:
    app = create_app(SEED, 100)
    assert len(operations()) == 123
    assert set(app.handlers) == {op.operation_id for op in operations()}
    for op in operations():
        match = app.router.match(op.method, re.sub(r"\{[^{}]+\}", "x", op.template))
        assert match is not None
        assert match.operation == op


@pytest.mark.parametrize("operation", GETS, ids=[op.operation_id for op in GETS])
def test_every_get_operation_answers_within_its_schema(
    client: httpx.Client, ids: dict[str, str], operation: Operation
) -> None:
    path = re.sub(r"\{([^{}]+)\}", lambda m: ids[m.group(1)], operation.template)
    query = {p.name: YEAR for p in operation.query_params if p.required and p.name == "year"}
    response = client.get(path, params=query)
    assert response.status_code == operation.status, response.text
    assert answer_errors(operation, response) == []
    if operation.kind == "list":
        body = response.json()
        assert body["pagination"]["totalRecords"] >= len(body["data"])
    if operation.kind == "document":
        content = response.content
        assert content.startswith(b"%PDF-1.4")
        assert content.rstrip().endswith(b"%%EOF")


@pytest.mark.parametrize(
    "operation",
    [op for op in GETS if op.kind == "task"],
    ids=[op.operation_id for op in GETS if op.kind == "task"],
)
def test_every_download_gives_a_task_whose_document_is_a_pdf_or_well_formed_xml(
    client: httpx.Client, ids: dict[str, str], operation: Operation
) -> None:
    path = re.sub(r"\{([^{}]+)\}", lambda m: ids[m.group(1)], operation.template)
    task = client.get(path, params={"year": YEAR, "period": "3"}).json()["taskId"]
    document = client.get(f"/api/documents/{task}")
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/octet-stream"
    name = document.headers["content-disposition"]
    if name.endswith('.pdf"'):
        assert document.content.startswith(b"%PDF-")
        assert b"startxref" in document.content
    else:
        root = ET.fromstring(document.content)
        assert len(root) > 0
