"""The published OpenAPI document shipped in this package, loaded once and read by `$ref`."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONTRACT_PATH = Path(__file__).parent / "contract" / "payroll-api-openapi.yaml"
Schema = dict[str, Any]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def document() -> dict[str, Any]:
    """The parsed document (parsed once per process; treat it as read-only)."""
    with CONTRACT_PATH.open("rb") as stream:
        loaded: dict[str, Any] = yaml.load(stream, Loader=_LOADER)
    return loaded


def resolve(schema: Schema) -> Schema:
    """Follow `$ref`s (`#/components/...`) until a schema that is not a reference."""
    while "$ref" in schema:
        node: Any = document()
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema
