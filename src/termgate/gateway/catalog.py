"""The upstream's operations, read from its OpenAPI document and matched by path template.

All templates of one method compile into a single regular expression with one named group per
operation, so matching a request is one C-level regex call; the matched group names the
operation, and the operation's own pattern yields the path parameters only when a step asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_PARAM = re.compile(r"\{([^{}/]+)\}")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the API: what a request is, for every later step and for usage."""

    operation_id: str
    method: str
    template: str
    # Each entry is one alternative set of scopes that satisfies the operation.
    scope_alternatives: tuple[frozenset[str], ...] = ()
    data_category: str | None = None
    pattern: re.Pattern[str] = field(default=re.compile(""), compare=False, repr=False)

    def path_params(self, path: str) -> dict[str, str]:
        match = self.pattern.fullmatch(path)
        return match.groupdict() if match else {}


def _template_regex(template: str, *, named: bool) -> str:
    parts: list[str] = []
    position = 0
    for match in _PARAM.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        name = re.sub(r"\W", "_", match.group(1))
        parts.append(f"(?P<{name}>[^/]+)" if named else "[^/]+")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return "".join(parts)


def _scopes(operation: dict[str, Any]) -> tuple[frozenset[str], ...]:
    alternatives: list[frozenset[str]] = []
    for requirement in operation.get("security") or ():
        for scopes in requirement.values():
            alternatives.append(frozenset(scopes))
    return tuple(alternatives)


class Catalog:
    """Operations by method; `match` answers the operation of a method and path, or None."""

    def __init__(self, operations: list[Operation]) -> None:
        self.operations = operations
        self._by_method: dict[str, tuple[re.Pattern[str], dict[str, Operation]]] = {}
        grouped: dict[str, list[tuple[str, Operation]]] = {}
        for index, operation in enumerate(operations):
            grouped.setdefault(operation.method, []).append((f"o{index}", operation))
        for method, entries in grouped.items():
            # Literal segments first, so /employees/salaries wins over /employees/{employeeId}.
            entries.sort(key=lambda entry: entry[1].template.count("{"))
            alternation = "|".join(
                f"(?P<{name}>{_template_regex(op.template, named=False)})" for name, op in entries
            )
            self._by_method[method] = (re.compile(alternation), dict(entries))

    @classmethod
    def from_openapi(cls, document: dict[str, Any]) -> Catalog:
        operations: list[Operation] = []
        for template, item in (document.get("paths") or {}).items():
            for method in METHODS:
                spec = item.get(method)
                if not isinstance(spec, dict):
                    continue
                operations.append(
                    Operation(
                        operation_id=str(spec.get("operationId") or f"{method} {template}"),
                        method=method.upper(),
                        template=template,
                        scope_alternatives=_scopes(spec),
                        data_category=spec.get("x-data-category"),
                        pattern=re.compile(_template_regex(template, named=True)),
                    )
                )
        return cls(operations)

    def match(self, method: str, path: str) -> Operation | None:
        entry = self._by_method.get(method)
        if entry is None:
            return None
        pattern, operations = entry
        found = pattern.fullmatch(path)
        if found is None or found.lastgroup is None:
            return None
        return operations[found.lastgroup]

    def allowed_methods(self, path: str) -> list[str]:
        return [m for m, (pattern, _) in self._by_method.items() if pattern.fullmatch(path)]
