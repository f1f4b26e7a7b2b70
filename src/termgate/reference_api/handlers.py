"""Which handler answers each operation, chosen once from the operation table."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

from termgate.reference_api import people, tasks, writes
from termgate.reference_api.errors import NOT_FOUND, ApiError
from termgate.reference_api.http import Request, Response
from termgate.reference_api.operations import Operation
from termgate.reference_api.paging import envelope, window
from termgate.reference_api.reads import Listing, in_period, listing_for
from termgate.reference_api.state import PublishedApi

Handler = Callable[[PublishedApi, Operation, Request, Any], Response]
SPECIAL_WRITES: dict[str, Handler] = {
    "createEmployee": people.create_employee,
    "updateEmployeeSocialSecurityNumber": people.replace_bsn,
    "uploadEmployeeDocument": people.upload_document,
    "CreateEmployeeAbsenceRegistration": people.register_absence,
    "updateEmployeeAbsenceRegistration": people.update_absence,
}


def _list(listing: Listing) -> Handler:
    def handle(api: PublishedApi, op: Operation, request: Request, body: Any) -> Response:
        number, size = window(request)
        start = (number - 1) * size
        total, data = listing(api, op, request, start, start + size)
        answer = envelope(request, total, in_period(request, data))
        try:
            return Response(200, orjson.dumps(answer))
        except TypeError:  # a pageNumber beyond 64 bits, which the schema allows and orjson not
            return Response(200, json.dumps(answer, ensure_ascii=False).encode())

    return handle


def _task(api: PublishedApi, op: Operation, request: Request, body: Any) -> Response:
    return tasks.start_task(api, op.operation_id, request)


def _document(api: PublishedApi, op: Operation, request: Request, body: Any) -> Response:
    return tasks.document(api, request)


def handler_for(op: Operation) -> Handler:
    if op.kind == "list":
        return _list(listing_for(op))
    if op.kind == "task":
        return _task
    if op.kind == "document":
        return _document
    if op.operation_id in SPECIAL_WRITES:
        return SPECIAL_WRITES[op.operation_id]
    if op.operation_id in writes.WRITES:
        return writes.apply
    raise ApiError(NOT_FOUND, f"{op.operation_id} has no handler")
