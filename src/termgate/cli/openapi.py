"""`termgate openapi [PATH]`: what the gateway makes of an OpenAPI document, before serving it.

It reads the document the way the gateway does (a file, JSON or YAML), builds the catalog and
runs the validator, then prints how many operations are served and everything that could not be
used as written, so the operator sees it without reading the server's log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from termgate.cli.common import console, fail, settings_or_exit
from termgate.gateway.catalog import Catalog
from termgate.gateway.openapi_source import DocumentError, check_document, read_document_file


def say(line: str) -> None:
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def openapi(
    path: Annotated[
        Path | None,
        typer.Argument(help="the document (default: TERMGATE_OPENAPI_PATH)", show_default=False),
    ] = None,
    operations: Annotated[
        bool, typer.Option("--operations", help="also list every operation and its scopes")
    ] = False,
) -> None:
    """Check an OpenAPI 3.0/3.1 document: the operations the gateway serves and what it cannot use.

    Exits 1 when no operation can be served; issues alone do not fail it (the gateway serves
    the rest)."""
    source = path or settings_or_exit().openapi_path
    if source is None:
        fail("name the document, or set TERMGATE_OPENAPI_PATH")
    try:
        document = read_document_file(source)
    except DocumentError as error:
        fail(str(error))
    catalog = Catalog.from_openapi(document)
    checked = check_document(document)
    say(f"{source}: the gateway serves {len(catalog.operations)} operations")
    if operations:
        say("  (a write scope X satisfies a requirement of X.read too)")
        for op in catalog.operations:
            scopes = " | ".join(op.required_scopes) or "any valid token"
            say(f"  {op.method:7} {op.template}  {op.operation_id}  [{scopes}]")
    for title, issues in (
        ("not used as written", catalog.issues),
        ("found by the validator (served all the same)", checked),
    ):
        if issues:
            say(f"{len(issues)} {title}:")
            for issue in issues:
                say(f"  - {issue}")
    if not catalog.operations:
        fail("the document describes no operation the gateway can serve")
