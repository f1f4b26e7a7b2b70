"""Schema validation with a maintained validator (`openapi-schema-validator`, OpenAPI 3.0
dialect over `jsonschema`), `$ref`s resolved against the whole document.

The document has two empty enums (`CreateEmployeeWageTaxSettings.incomeType`, `.specialTable`):
an empty enum would refuse every value, so they are read as unconstrained.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import TYPE_CHECKING, Any

from termgate.reference_api.contract import Schema, document, resolve

if TYPE_CHECKING:  # the validator is imported on first use: its import costs a second at start
    from jsonschema.protocols import Validator
    from referencing import Registry

CONTRACT_URI = "urn:termgate:published-contract"


def _without_empty_enums(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: _without_empty_enums(v) for k, v in node.items() if not (k == "enum" and v == [])
        }
    if isinstance(node, list):
        return [_without_empty_enums(item) for item in node]
    return node


@cache
def tolerant_document() -> dict[str, Any]:
    """The document with its empty enums dropped (a copy; the original stays as published)."""
    patched: dict[str, Any] = _without_empty_enums(copy.deepcopy(document()))
    return patched


@cache
def _registry() -> Registry[Any]:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    resource = Resource.from_contents(tolerant_document(), default_specification=DRAFT4)
    registry: Registry[Any] = Registry().with_resource(CONTRACT_URI, resource)
    return registry


def pointer(*parts: str) -> str:
    """A reference into the document (`pointer("paths", "/api/x", "get")`)."""
    return f"{CONTRACT_URI}#/" + "/".join(
        part.replace("~", "~0").replace("/", "~1") for part in parts
    )


@cache
def _validator(ref: str, write: bool) -> Validator:
    from openapi_schema_validator import (
        OAS30ReadValidator,
        OAS30WriteValidator,
        oas30_format_checker,
    )

    kind = OAS30WriteValidator if write else OAS30ReadValidator
    validator: Validator = kind(
        {"$ref": ref}, registry=_registry(), format_checker=oas30_format_checker
    )
    return validator


def request_errors(ref: str, value: Any) -> list[dict[str, str]]:
    """`invalid-params` for a request body that does not fit the schema at `ref` (empty: fits)."""
    errors = sorted(_validator(ref, True).iter_errors(value), key=lambda e: list(e.path))
    return [
        {"name": ".".join(str(part) for part in error.path) or "body", "reason": error.message}
        for error in errors[:20]
    ]


def response_errors(ref: str, value: Any) -> list[str]:
    """What does not fit in an answer (the tests check every answer with this)."""
    return [
        f"{'/'.join(str(p) for p in error.path)}: {error.message}"
        for error in _validator(ref, False).iter_errors(value)
    ]


_FITS: dict[int, Validator] = {}


def fits(schema: Schema, value: Any) -> bool:
    """Whether `value` fits a schema of the document (a property's, when a write overlays it)."""
    validator = _FITS.get(id(schema))
    if validator is None:
        from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

        validator = OAS30ReadValidator(inline(schema), format_checker=oas30_format_checker)
        _FITS[id(schema)] = validator
    return bool(validator.is_valid(value))


def inline(schema: Any, depth: int = 0) -> Any:
    """`schema` with its `$ref`s replaced by what they name (the document's schemas do not
    refer to themselves; the depth bound only guards against a document that would)."""
    if depth > 32:
        return {}
    if isinstance(schema, dict):
        if "$ref" in schema:
            return inline(resolve(schema), depth + 1)
        return {k: inline(v, depth + 1) for k, v in schema.items() if not (k == "enum" and v == [])}
    if isinstance(schema, list):
        return [inline(item, depth + 1) for item in schema]
    return schema
