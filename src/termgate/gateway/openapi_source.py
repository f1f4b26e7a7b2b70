"""Where the gateway's OpenAPI document comes from, and what is wrong with it.

The document is read from a file (`TERMGATE_OPENAPI_PATH`, JSON or YAML) or from the upstream
(`TERMGATE_UPSTREAM_OPENAPI_URL`). `check_document` runs a maintained validator over it
(`openapi-spec-validator`): its findings are reported beside the catalog's own `issues`, never
a reason to refuse the document; the catalog serves what it can use.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import yaml
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

from termgate.gateway.catalog import Catalog
from termgate.gateway.openapi_read import Issue

log = logging.getLogger("termgate")
_LONGEST_MESSAGE = 200


class DocumentError(ValueError):
    """The document cannot be read at all (the message says why)."""


def read_document_file(path: Path) -> dict[str, Any]:
    """The OpenAPI document in the file at `path`, JSON or YAML."""
    try:
        text = path.read_bytes()
    except OSError as error:
        raise DocumentError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as error:
            raise DocumentError(f"{path} is neither JSON nor YAML: {error}") from error
    if not isinstance(document, dict):
        raise DocumentError(f"{path} does not hold an OpenAPI document (an object)")
    return document


def _message(error: Exception) -> Issue:
    where = str(getattr(error, "json_path", "") or "$").removeprefix("$").lstrip(".") or "document"
    what = str(getattr(error, "message", error)).strip().split("\n", 1)[0]
    if len(what) > _LONGEST_MESSAGE:  # the validator quotes whole objects
        what = "does not follow the OpenAPI schema for this object"
    return Issue(where, f"not valid OpenAPI: {what}")


def check_document(document: dict[str, Any]) -> tuple[Issue, ...]:
    """What the validator finds wrong with the document (empty when it is valid)."""
    version = str(document.get("openapi", ""))
    if version.startswith("3.0"):
        validator: Any = OpenAPIV30SpecValidator(document)
    elif version.startswith("3.1"):
        validator = OpenAPIV31SpecValidator(document)
    else:
        return (Issue("openapi", f"version {version!r} is not 3.0 or 3.1; read as 3.1"),)
    found: list[Issue] = []
    try:
        for error in validator.iter_errors():
            found.append(_message(error))
    except Exception as error:  # a validator crash must not stop the gateway from serving
        reference = getattr(error, "ref", None)
        at = f" at $ref {reference!r}" if reference else ""
        found.append(Issue("document", f"the validator stopped{at}: {type(error).__name__}"))
    return tuple(found)


def log_issues(source: str, issues: Iterable[Issue]) -> None:
    for issue in issues:
        log.warning("OpenAPI document %s: %s", source, issue)


def describe(catalog: Catalog, checked: tuple[Issue, ...] | None, source: str) -> dict[str, Any]:
    """What the operator sees of the document (`/readyz`, `termgate openapi`): where it came
    from, how many operations are served, what was not used as written, and what the validator
    found (None while it has not run yet)."""
    return {
        "source": source,
        "operations": len(catalog.operations),
        "not_used_as_written": [str(issue) for issue in catalog.issues],
        "not_valid_openapi": None if checked is None else [str(issue) for issue in checked],
    }
