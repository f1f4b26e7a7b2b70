"""The upstream's operations, read from its OpenAPI document and matched by path template.

All templates of one method compile into a single regular expression with one named group per
operation, so matching a request is one C-level regex call; the matched group names the
operation, and the operation's own pattern yields the path parameters only when a step asks.
The tenant in the path (a `debtorId` or `companyId`, clause 3.3 a) has a group of its own in that
expression, so `resolve` hands it over from the same match.

What the authorize step needs of an operation is worked out here, once, when the catalog loads:
the scopes of which any one suffices, the tenant parameter, and whether the operation needs a
consent over one debtor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from termgate.core.wire import METHODS

_PARAM = re.compile(r"\{([^{}/]+)\}")
# Path parameters that name a tenant: the consent must cover it (clause 3.3 a).
DEBTOR, COMPANY = "debtor", "company"
TENANT_PARAMETERS = {"debtorId": DEBTOR, "companyId": COMPANY}
# Lists across tenants that the contract answers for one debtor only (code 40306):
# a consent over several debtors lists per debtor (GET /api/debtors/{debtorId}/companies).
SINGLE_DEBTOR_TEMPLATES = frozenset({"/api/companies"})


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the API: what a request is, for every later step and for usage."""

    operation_id: str
    method: str
    template: str
    # Each entry is one alternative set of scopes that satisfies the operation.
    scope_alternatives: tuple[frozenset[str], ...] = ()
    data_category: str | None = None
    # The operation pages its answer (it takes `pageSize`), and the page size it uses when the
    # request names none (None: not documented). The plan's cap applies to that default too.
    paged: bool = False
    default_page_size: int | None = None
    pattern: re.Pattern[str] = field(default=re.compile(""), compare=False, repr=False)
    # Whether the API describes a request body for it (a body sent to one that has none: 400).
    accepts_body: bool = True
    # Worked out from the above once, for the authorize step:
    # "debtor" or "company" when the path names a tenant (clause 3.3 a), else None;
    tenant: str | None = field(init=False, compare=False)
    # the consent must span exactly one debtor (40306 otherwise);
    single_debtor: bool = field(init=False, compare=False)
    # when every alternative is one scope, the scopes of which any one suffices (one C call
    # against the granted set); None when an alternative needs several (checked one by one);
    any_scope: frozenset[str] | None = field(init=False, compare=False)
    # the alternatives as OAuth scope strings, for problem documents and WWW-Authenticate.
    required_scopes: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        alternatives = self.scope_alternatives
        single = all(len(alternative) == 1 for alternative in alternatives)
        derived = {
            "tenant": _tenant(self.template),
            "single_debtor": self.template in SINGLE_DEBTOR_TEMPLATES,
            "any_scope": frozenset().union(*alternatives) if single else None,
            "required_scopes": tuple(" ".join(sorted(option)) for option in alternatives),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def path_params(self, path: str) -> dict[str, str]:
        match = self.pattern.fullmatch(path)
        return match.groupdict() if match else {}


def _template_regex(template: str, *, named: bool, tenant_group: str | None = None) -> str:
    parts: list[str] = []
    position = 0
    tenant_pending = tenant_group is not None
    for match in _PARAM.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        name = re.sub(r"\W", "_", match.group(1))
        if named:
            parts.append(f"(?P<{name}>[^/]+)")
        elif tenant_pending and match.group(1) in TENANT_PARAMETERS:
            parts.append(f"(?P<{tenant_group}>[^/]+)")
            tenant_pending = False
        else:
            parts.append("[^/]+")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return "".join(parts)


def _tenant(template: str) -> str | None:
    for name in _PARAM.findall(template):
        if name in TENANT_PARAMETERS:
            return TENANT_PARAMETERS[name]
    return None


def _page_size(item: dict[str, Any], operation: dict[str, Any]) -> tuple[bool, int | None]:
    """Whether the operation takes `pageSize` in its query, and its documented default."""
    for parameter in [*(item.get("parameters") or ()), *(operation.get("parameters") or ())]:
        if not isinstance(parameter, dict):
            continue
        if parameter.get("name") == "pageSize" and parameter.get("in") == "query":
            schema = parameter.get("schema")
            default = schema.get("default") if isinstance(schema, dict) else None
            return True, default if isinstance(default, int) else None
    return False, None


def _scopes(operation: dict[str, Any]) -> tuple[frozenset[str], ...]:
    alternatives: list[frozenset[str]] = []
    for requirement in operation.get("security") or ():
        for scopes in requirement.values():
            alternatives.append(frozenset(scopes))
    return tuple(alternatives)


# One operation as `resolve` finds it: the operation and the group number of its tenant (0: none).
_Entry = tuple[Operation, int]


class Catalog:
    """Operations by method; `resolve` answers the operation of a method and path and the tenant
    id in the path, `match` the operation alone; None when no operation matches."""

    def __init__(self, operations: list[Operation]) -> None:
        self.operations = operations
        self._by_method: dict[str, tuple[re.Pattern[str], dict[str, _Entry]]] = {}
        grouped: dict[str, list[tuple[str, Operation]]] = {}
        for index, operation in enumerate(operations):
            grouped.setdefault(operation.method, []).append((f"o{index}", operation))
        for method, entries in grouped.items():
            # Literal segments first, so /employees/salaries wins over /employees/{employeeId}.
            entries.sort(key=lambda entry: entry[1].template.count("{"))
            alternation = "|".join(
                f"(?P<{name}>{_template_regex(op.template, named=False, tenant_group=f't{name}')})"
                for name, op in entries
            )
            pattern = re.compile(alternation)
            groups = pattern.groupindex
            self._by_method[method] = (
                pattern,
                {name: (op, groups.get(f"t{name}", 0)) for name, op in entries},
            )

    @classmethod
    def from_openapi(cls, document: dict[str, Any]) -> Catalog:
        operations: list[Operation] = []
        for template, item in (document.get("paths") or {}).items():
            for method in METHODS:
                spec = item.get(method)
                if not isinstance(spec, dict):
                    continue
                paged, default_page_size = _page_size(item, spec)
                operations.append(
                    Operation(
                        operation_id=str(spec.get("operationId") or f"{method} {template}"),
                        method=method.upper(),
                        template=template,
                        scope_alternatives=_scopes(spec),
                        data_category=spec.get("x-data-category"),
                        paged=paged,
                        default_page_size=default_page_size,
                        pattern=re.compile(_template_regex(template, named=True)),
                        accepts_body="requestBody" in spec,
                    )
                )
        return cls(operations)

    def resolve(self, method: str, path: str) -> tuple[Operation, str | None] | None:
        """The operation and the tenant id its path names (None if it names none)."""
        entry = self._by_method.get(method)
        if entry is None:
            return None
        pattern, operations = entry
        found = pattern.fullmatch(path)
        if found is None or found.lastgroup is None:
            return None
        operation, tenant_group = operations[found.lastgroup]
        return operation, found.group(tenant_group) if tenant_group else None

    def match(self, method: str, path: str) -> Operation | None:
        resolved = self.resolve(method, path)
        return resolved[0] if resolved else None

    def allowed_methods(self, path: str) -> list[str]:
        return [m for m, (pattern, _) in self._by_method.items() if pattern.fullmatch(path)]
