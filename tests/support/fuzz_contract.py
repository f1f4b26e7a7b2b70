"""Schemathesis over the published document against a running API (the reference API directly,
or the gateway in front of it): no server error and no answer off the document's schemas,
status codes or media types.

Schemathesis reads the same tolerant copy the reference API validates with (the two empty enums
dropped) and the one path parameter whose case differs from its template (`hourComponentId` on
`{hourcomponentId}`) is renamed to the template's; nothing else of the document is changed.
Each operation draws its own bounded, derandomized examples; path ids are a mix of generated
values and real ids from the listings, so both the refusals and the answers with data are
exercised.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response

from termgate.reference_api.validation import tolerant_document

CHECKS = [
    not_a_server_error,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Whether an answer's status may be left out of `status_code_conformance`, given the operation's
# label ("GET /api/...") and the answer; the caller then judges that answer itself.
Undeclared = Callable[[str, Response], bool]


@dataclass
class FuzzRun:
    """What a run saw: failures (one per failing example), statuses per operation, examples."""

    failures: list[str] = field(default_factory=list)
    statuses: dict[str, set[int]] = field(default_factory=dict)
    tally: Counter[int] = field(default_factory=Counter)
    examples: int = 0
    server_errors: int = 0
    schema_violations: int = 0

    def answered(self) -> set[str]:
        """Operations that answered with data (a 2xx) at least once."""
        return {label for label, codes in self.statuses.items() if codes & {200, 201, 204}}

    def summary(self) -> str:
        return (
            f"{len(self.statuses)} operations, {self.examples} examples, "
            f"{self.server_errors} server errors, {self.schema_violations} schema violations, "
            f"statuses {dict(sorted(self.tally.items()))}"
        )


def media_type(response: Response) -> str:
    values = response.headers.get("content-type") or [""]
    return values[0].split(";")[0].strip()


def fuzzable_document() -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(tolerant_document())
    for template, item in document["paths"].items():
        names = {name.lower(): name for name in re.findall(r"\{([^{}/]+)\}", template)}
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "path" and parameter.get("name", "").lower() in names:
                    parameter["name"] = names[parameter["name"].lower()]
    return document


def fuzz(
    base_url: str,
    known: Mapping[str, str],
    undeclared: Undeclared,
    *,
    headers: Mapping[str, str] | None = None,
    max_examples: int = 12,
    judge: Callable[[str, Response], list[str]] | None = None,
) -> FuzzRun:
    """Run every operation of the document against `base_url` with `headers` on each request;
    `judge` adds the caller's own findings about an answer (each counts as a schema violation)."""
    schema = schemathesis.openapi.from_dict(fuzzable_document())
    run = FuzzRun()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the document is read whole, or the run fails
        try:
            _exercise(result.ok(), base_url, known, undeclared, dict(headers or {}),
                      max_examples, judge, run)  # fmt: skip
        except (AssertionError, FailureGroup):  # counted in `run`; the next operation
            continue
    return run


def _exercise(
    operation: Any,
    base_url: str,
    known: Mapping[str, str],
    undeclared: Undeclared,
    headers: dict[str, str],
    max_examples: int,
    judge: Callable[[str, Response], list[str]] | None,
    run: FuzzRun,
) -> None:
    template = re.findall(r"\{([^{}/]+)\}", operation.path)
    strategy = operation.as_strategy()
    if template and all(name in known for name in template):
        real = {name: known[name] for name in template}
        strategy = st.one_of(strategy, operation.as_strategy(path_parameters=real))

    @settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def example(case: Any) -> None:
        run.examples += 1
        response = case.call(base_url=base_url, headers=headers)
        run.statuses.setdefault(operation.label, set()).add(response.status_code)
        run.tally[response.status_code] += 1
        if response.status_code >= 500:
            run.server_errors += 1
        try:
            case.validate_response(response, checks=CHECKS)
            if not undeclared(operation.label, response):
                case.validate_response(response, checks=[status_code_conformance])
            findings = judge(operation.label, response) if judge else []
            assert not findings, "; ".join(findings)
        except (AssertionError, FailureGroup) as failure:
            if response.status_code < 500:
                run.schema_violations += 1
            run.failures.append(f"{operation.label}: {failure}")
            raise

    example()
