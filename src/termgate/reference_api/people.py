"""Writes about the employee as a person and its files: create an employee, replace the BSN,
upload a document, register absence within a dossier."""

from __future__ import annotations

from typing import Any

import orjson

from termgate.reference_api.contract import Schema
from termgate.reference_api.errors import not_found
from termgate.reference_api.guids import Kind
from termgate.reference_api.http import Request, Response
from termgate.reference_api.operations import Operation
from termgate.reference_api.records import collection_items
from termgate.reference_api.seeding import seeded
from termgate.reference_api.state import PublishedApi
from termgate.reference_api.world import make_person
from termgate.reference_api.writes import overlay

Record = dict[str, Any]
_PERSON_FIELDS = {"firstName": "first_name", "lastName": "last_name", "prefix": "prefix",
                  "initials": "initials", "employeeNumber": "number"}  # fmt: skip


def create_employee(api: PublishedApi, op: Operation, request: Request, body: Any) -> Response:
    company = api.company(request.params["companyId"])
    world = api.world
    index = world.base_employees + len(world.created)
    number = world.employee_count(company) + 1
    person = make_person(world, seeded(f"{world.seed}:created:{index}"), index, company,
                         number)  # fmt: skip
    basic = ((body or {}).get("PersonalInfo") or {}).get("basicInfo") or {}
    for key, attribute in _PERSON_FIELDS.items():
        if basic.get(key) is not None:
            setattr(person, attribute, basic[key])
    world.created[index] = person
    if isinstance(basic.get("employeeType"), str):
        world.created_types[index] = basic["employeeType"]
    world.created_by_company.setdefault(company.index, []).append(index)
    world.person.cache_clear()
    api.version += 1
    return Response(op.status, orjson.dumps({"employeeId": person.id}))


def replace_bsn(api: PublishedApi, op: Operation, request: Request, body: Any) -> Response:
    index = api.employee(request.params["employeeId"])
    bsn = (body or {}).get("socialSecurityNumber")
    if isinstance(bsn, str):
        for item in api.editable(index, "privateInfos"):
            item["BSN"] = bsn
    api.records.changes += 1
    personal_info_id = api.world.codec.encode(Kind.CREATED, index, 1, api.records.changes)
    return Response(op.status, orjson.dumps({"personalnfoId": personal_info_id}))


def upload_document(api: PublishedApi, op: Operation, request: Request, body: Any) -> Response:
    index = api.employee(request.params["employeeId"])
    api.records.changes += 1
    document_id = api.world.codec.encode(Kind.CREATED, index, 2, api.records.changes)
    return Response(op.status, orjson.dumps({"documentId": document_id}))


def _dossier(api: PublishedApi, request: Request) -> tuple[int, Record]:
    company = api.company(request.params["companyId"])
    index = api.employee(request.params["employeeId"])
    if api.world.company_of(index).index != company.index:
        raise not_found("employee", request.params["employeeId"])
    wanted = request.params["absenceDossierId"].lower()
    for dossier in api.editable(index, "employeeAbsenceDossiers"):
        if str(dossier.get("absenceDossierId", "")).lower() == wanted:
            return index, dossier
    raise not_found("absence dossier", request.params["absenceDossierId"])


def _registration_schema(api: PublishedApi) -> Schema:
    dossier = api.collections["employeeAbsenceDossiers"]
    items = collection_items(dossier["properties"]["employeeAbsences"])
    assert items is not None
    return items


def register_absence(api: PublishedApi, op: Operation, request: Request, body: Any) -> Response:
    index, dossier = _dossier(api, request)
    schema = _registration_schema(api)
    registration = api.records.new_record("employee", index, "employeeAbsences", schema)
    overlay(registration, body, schema)
    dossier["employeeAbsences"] = [*(dossier.get("employeeAbsences") or []), registration]
    return Response(op.status, orjson.dumps({"absenceId": registration["absenceId"]}))


def update_absence(api: PublishedApi, op: Operation, request: Request, body: Any) -> Response:
    _, dossier = _dossier(api, request)
    schema = _registration_schema(api)
    wanted = request.params["absenceId"].lower()
    registrations = [dict(item) for item in dossier.get("employeeAbsences") or []]
    for registration in registrations:
        if str(registration.get("absenceId", "")).lower() == wanted:
            overlay(registration, body, schema)
            dossier["employeeAbsences"] = registrations
            return Response(op.status, b"", None)
    raise not_found("absence", request.params["absenceId"])
