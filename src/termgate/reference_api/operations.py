"""The operations of the published document, read into what the server needs to answer them.

Each operation keeps its path template, its parameters (path parameters matched to the template
without regard to case: the document declares `hourComponentId` on `{hourcomponentId}`), the
schema of its success answer and of its request body. An answer is one of:
`list` (the `pagination` + `data` envelope), `task` (a `taskId` to fetch from
`/api/documents/{taskId}`), `created`/`object` (a JSON object), `document` (binary content) or
`empty` (no body).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from termgate.reference_api.contract import Schema, document, resolve

Kind = Literal["list", "task", "object", "document", "empty"]
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
_TEMPLATE_PARAM = re.compile(r"\{([^{}/]+)\}")


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    location: str  # path, query or header
    required: bool
    schema: Schema


@dataclass(frozen=True, slots=True)
class Operation:
    method: str  # upper case
    template: str
    operation_id: str
    kind: Kind
    status: int
    media_type: str | None
    schema: Schema  # the answer's schema (for a list: the schema of one item of `data`)
    params: tuple[Param, ...]
    body_schema: Schema | None
    body_media_type: str | None
    statuses: frozenset[int]  # the statuses the document declares

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_TEMPLATE_PARAM.findall(self.template))

    @property
    def query_params(self) -> tuple[Param, ...]:
        return tuple(param for param in self.params if param.location == "query")


def _params(template: str, raw: list[dict[str, Any]]) -> tuple[Param, ...]:
    in_template = {name.lower(): name for name in _TEMPLATE_PARAM.findall(template)}
    params = []
    for entry in raw:
        param = resolve(entry)
        name, location = param["name"], param["in"]
        if location == "path":
            name = in_template.get(name.lower(), name)
        schema = param.get("schema", {"type": "string"})
        params.append(Param(name, location, bool(param.get("required")), schema))
    return tuple(params)


def _success(responses: dict[str, Any]) -> tuple[int, str | None, Schema]:
    for code in sorted(responses):
        if code.startswith("2"):
            content = resolve(responses[code]).get("content") or {}
            for media_type, entry in content.items():
                return int(code), media_type, entry.get("schema", {})
            return int(code), None, {}
    raise ValueError("an operation without a success answer")


def _kind(status: int, media_type: str | None, schema: Schema) -> Kind:
    if media_type is None:
        return "empty"
    if media_type != "application/json":
        return "document"
    properties = resolve(schema).get("properties", {})
    if "pagination" in properties and "data" in properties:
        return "list"
    if list(properties) == ["taskId"]:
        return "task"
    return "object"


def _operation(
    method: str, template: str, entry: dict[str, Any], shared: list[dict[str, Any]]
) -> Operation:
    status, media_type, schema = _success(entry["responses"])
    kind = _kind(status, media_type, schema)
    if kind == "list":
        schema = resolve(resolve(schema)["properties"]["data"]).get("items", {})
    body_schema = body_media_type = None
    if "requestBody" in entry:
        content = resolve(entry["requestBody"])["content"]
        body_media_type, body = next(iter(content.items()))
        body_schema = body.get("schema", {})
    return Operation(
        method.upper(),
        template,
        entry.get("operationId", f"{method}{template}"),
        kind,
        status,
        media_type,
        resolve(schema),
        _params(template, [*shared, *entry.get("parameters", [])]),
        body_schema,
        body_media_type,
        frozenset(int(code) for code in entry["responses"] if code.isdigit()),
    )


@cache
def operations() -> tuple[Operation, ...]:
    """Every operation of the document, in document order."""
    found = []
    for template, item in document()["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                shared = item.get("parameters", [])
                found.append(_operation(method, template, item[method], shared))
    return tuple(found)
