"""Employee documents: metadata, and the content streamed in chunks of a deterministic body."""

from __future__ import annotations

import random
from collections.abc import Iterator

from termgate.reference_api import lookup
from termgate.reference_api.data import PayrollData
from termgate.reference_api.http import Request, Response, StreamResponse, json_response

CHUNK_SIZE = 64 * 1024


def document_content(seed: int, document_id: str, size: int) -> Iterator[bytes]:
    """`size` bytes of a synthetic PDF-like file, the same for the same seed and document."""
    header = f"%PDF-1.7\n% synthetic payroll document {document_id}\n".encode()
    block = random.Random(f"{seed}:document:{document_id}").randbytes(CHUNK_SIZE)
    first = (header + block)[:CHUNK_SIZE]
    sent = 0
    while sent < size:
        chunk = first if sent == 0 else block
        chunk = chunk[: size - sent]
        sent += len(chunk)
        yield chunk


def get_document(data: PayrollData, request: Request) -> Response:
    employee = lookup.employee(data, *request.params[:2])
    documents = data.details(employee["id"]).documents
    return json_response(lookup.by_id(documents, request.params[2], "document"))


def get_document_content(data: PayrollData, request: Request) -> StreamResponse:
    employee = lookup.employee(data, *request.params[:2])
    documents = data.details(employee["id"]).documents
    document = lookup.by_id(documents, request.params[2], "document")
    disposition = f'attachment; filename="{document["fileName"]}"'.encode()
    return StreamResponse(
        200,
        document_content(data.seed, document["id"], document["size"]),
        document["contentType"],
        [(b"content-disposition", disposition)],
    )
