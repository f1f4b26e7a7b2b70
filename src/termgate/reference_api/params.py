"""Path and query parameters read against the operation's declared schemas.

A value that does not fit (`pageSize=0`, `year=abc`, a GUID that is not one, a repeated name) is
a 400 `validationError` naming the parameter in `invalid-params`; undeclared query parameters are
ignored, as the published API does.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from urllib.parse import parse_qsl

from termgate.reference_api.contract import Schema, resolve
from termgate.reference_api.errors import bad_parameter
from termgate.reference_api.operations import Operation

_INTEGER = re.compile(r"-?[0-9]{1,40}", re.ASCII)  # any integer the schema allows, not a bignum


def _integer(name: str, raw: str, schema: Schema) -> int:
    if not _INTEGER.fullmatch(raw):
        raise bad_parameter(name, "The parameter is invalid. It needs to be a whole number.")
    value = int(raw)
    low, high = schema.get("minimum"), schema.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        raise bad_parameter(name, f"The parameter is invalid. It needs to be {bounds}.")
    return value


def check_value(name: str, raw: str, schema: Schema) -> None:
    schema = resolve(schema)
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "integer":
        _integer(name, raw, schema)
    elif fmt == "uuid":
        try:
            uuid.UUID(raw)
        except ValueError:
            raise bad_parameter(name, "The parameter is invalid. It needs to be a GUID.") from None
    elif fmt == "date-time":
        try:
            datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            reason = "The parameter is invalid. It needs to be a date and time (ISO 8601)."
            raise bad_parameter(name, reason) from None
    elif kind == "array":
        items = resolve(schema.get("items", {}))
        for part in raw.split(","):
            if part:
                check_value(name, part, items)


def read_query(operation: Operation, raw: bytes) -> dict[str, str | list[str]]:
    """The declared query parameters of the request, checked; a 400 names the one at fault."""
    values: dict[str, list[str]] = {}
    for name, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
        if "[" in name or "]" in name:
            raise bad_parameter(name, "Array parameters are not supported; send the name once.")
        values.setdefault(name, []).append(value)
    query: dict[str, str | list[str]] = {}
    for param in operation.query_params:
        given = values.get(param.name)
        schema = resolve(param.schema)
        if given is None:
            if param.required:
                raise bad_parameter(param.name, "The parameter is required.")
            continue
        if schema.get("type") == "array":
            for value in given:
                check_value(param.name, value, schema)
            query[param.name] = [part for value in given for part in value.split(",") if part]
            continue
        if len(given) > 1:
            raise bad_parameter(param.name, "The parameter is given more than once.")
        if given[0] == "" and not param.required:
            continue  # an empty optional value (`allowEmptyValue`) means not given
        check_value(param.name, given[0], schema)
        query[param.name] = given[0]
    return query


def check_path(operation: Operation, params: dict[str, str]) -> None:
    declared = {param.name: param.schema for param in operation.params if param.location == "path"}
    for name, value in params.items():
        check_value(name, value, declared.get(name, {"type": "string"}))
