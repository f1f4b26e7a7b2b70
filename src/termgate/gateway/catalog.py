"""The upstream's operations: a pure function of its OpenAPI document, matched by path template.

`Catalog.from_openapi(document)` reads the operations (`openapi_read`: scopes from `security`
whatever the scheme is called, `$ref`s followed, what it cannot use reported in `issues`) and
compiles the templates of each method into one tree-shaped regular expression (`matcher`), so
matching a request is one C-level regex call: the group that closes last names the operation and
the tenant ids in the path (clause 3.3 a) come from the same match. The answers for recent paths
are remembered per method (a bounded dict), so a path asked again costs one lookup. Which
parameters name a tenant is the tenancy configuration's (`tenancy.config`), not the catalog's:
each operation carries its `TenantPlan`. The catalog does not change once built; a new document
makes a new one.

What the authorize step needs of an operation is worked out here, once, when the catalog loads:
the scopes of which any one suffices and the tenant plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from termgate.core.memo import Memo
from termgate.gateway.matcher import (
    PARAMETER,
    TemplateError,
    TreeMatcher,
    check_template,
    shape,
    template_parameters,
)
from termgate.gateway.openapi_read import DocumentReader, Issue, OperationSpec
from termgate.gateway.tenancy.config import TenancyConfig, TenantPlan, load_tenancy

__all__ = ["Catalog", "Issue", "Operation"]

NO_TENANTS = TenantPlan()
NO_IDS: tuple[str, ...] = ()
USAGE_SCOPE_LENGTH = 64  # usage_events.scope


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
    # Which path parameters name a tenant and how each is checked (clause 3.3 a).
    tenancy: TenantPlan = field(default=NO_TENANTS, compare=False)
    # Worked out from the above once, for the authorize step:
    # when every alternative is one scope, the scopes of which any one suffices (one C call
    # against the granted set); None when an alternative needs several (checked one by one);
    any_scope: frozenset[str] | None = field(init=False, compare=False)
    # the alternatives as OAuth scope strings, for problem documents and WWW-Authenticate;
    required_scopes: tuple[str, ...] = field(init=False, compare=False)
    # and for the usage event's `scope`: the one scope when there is one alternative of one
    # (and it fits the column; `scope_used` answers the other cases).
    sole_scope: str | None = field(init=False, compare=False)

    def __post_init__(self) -> None:
        alternatives = self.scope_alternatives
        single = all(len(alternative) == 1 for alternative in alternatives)
        required = tuple(" ".join(sorted(option)) for option in alternatives)
        derived = {
            "any_scope": frozenset().union(*alternatives) if single else None,
            "required_scopes": required,
            "sole_scope": required[0]
            if single and len(required) == 1 and len(required[0]) <= USAGE_SCOPE_LENGTH
            else None,
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def scope_used(self, granted: frozenset[str]) -> str | None:
        """The first alternative `granted` satisfies, as the usage event records it (cut to
        its column's 64 characters); None when none is, or the operation needs no scope."""
        for alternative, text in zip(self.scope_alternatives, self.required_scopes, strict=True):
            if alternative <= granted:
                return text[:USAGE_SCOPE_LENGTH]
        return None

    @classmethod
    def from_spec(cls, spec: OperationSpec, tenancy: TenancyConfig) -> Operation:
        return cls(
            operation_id=spec.operation_id,
            method=spec.method,
            template=spec.template,
            scope_alternatives=spec.scope_alternatives,
            data_category=spec.data_category,
            paged=spec.paged,
            default_page_size=spec.default_page_size,
            pattern=re.compile(_named_regex(spec.template)),
            accepts_body=spec.accepts_body,
            tenancy=tenancy.plan(spec.template),
        )

    def path_params(self, path: str) -> dict[str, str]:
        match = self.pattern.fullmatch(path)
        if match is None:
            return {}
        return dict(zip(template_parameters(self.template), match.groups(), strict=True))


def _named_regex(template: str) -> str:
    parts: list[str] = []
    position = 0
    for match in PARAMETER.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        parts.append("([^/]+)")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return "".join(parts)


def _tenant_groups(operation: Operation, groups: tuple[int, ...]) -> tuple[int, ...]:
    """The match groups of the operation's tenant parameters, in its plan's order."""
    names = template_parameters(operation.template)
    return tuple(groups[names.index(parameter)] for parameter, _ in operation.tenancy.tenants)


# One operation as `resolve` finds it: the operation and the match groups of its tenant ids.
_Entry = tuple[Operation, tuple[int, ...]]
# What `resolve` answers: the operation and the tenant ids of the path.
Resolved = tuple[Operation, tuple[str, ...]]
# Per method, `resolve` remembers what it answered for this many paths of at most this length
# (the catalog never changes, so neither do its answers).
RECENT_PATHS = 4096
RECENT_PATH_LENGTH = 256


class Catalog:
    """Operations by method; `resolve` answers the operation of a method and path and the tenant
    ids in the path, `match` the operation alone; None when no operation matches. `issues` says
    what of the document could not be used as written."""

    __slots__ = ("_by_method", "issues", "operations")

    def __init__(self, operations: list[Operation], issues: tuple[Issue, ...] = ()) -> None:
        kept: list[Operation] = []
        problems = list(issues)
        grouped: dict[str, dict[str, Operation]] = {}
        shapes: dict[tuple[str, str], Operation] = {}
        ids: dict[str, Operation] = {}
        for operation in operations:
            where = f"{operation.method} {operation.template}"
            try:
                check_template(operation.template)
            except TemplateError as error:
                problems.append(Issue(where, f"the path template has {error}; not served"))
                continue
            same = shapes.setdefault((operation.method, shape(operation.template)), operation)
            if same is not operation:
                problems.append(
                    Issue(where, f"matches the same paths as {same.template}; not served")
                )
                continue
            twin = ids.setdefault(operation.operation_id, operation)
            if twin is not operation:
                problems.append(
                    Issue(
                        where,
                        f"operationId {operation.operation_id!r} is also {twin.method} "
                        f"{twin.template}'s; usage and products count them as one",
                    )
                )
            if operation.tenancy.refusal is not None:
                problems.append(
                    Issue(where, f"{operation.tenancy.refusal}; refused (clause 3.3 a)")
                )
            grouped.setdefault(operation.method, {})[f"o{len(kept)}"] = operation
            kept.append(operation)
        self.operations: tuple[Operation, ...] = tuple(kept)
        self.issues: tuple[Issue, ...] = tuple(problems)
        by_method: dict[str, tuple[TreeMatcher, dict[str, _Entry], Memo[Resolved]]] = {}
        for method, named in grouped.items():
            matcher = TreeMatcher({name: op.template for name, op in named.items()})
            entries: dict[str, _Entry] = {}
            for name, op in named.items():
                entries[name] = (op, _tenant_groups(op, matcher.groups[name]))
            by_method[method] = (matcher, entries, Memo(RECENT_PATHS, RECENT_PATH_LENGTH))
        self._by_method = MappingProxyType(by_method)

    @classmethod
    def from_openapi(
        cls, document: dict[str, Any], tenancy: TenancyConfig | None = None
    ) -> Catalog:
        """The document's operations, their tenants as `tenancy` says (default: the published
        contract's, `tenancy/published.toml`)."""
        reader = DocumentReader(document)
        specs = reader.operations()
        config = tenancy or load_tenancy()
        return cls([Operation.from_spec(spec, config) for spec in specs], tuple(reader.issues))

    def resolve(self, method: str, path: str) -> Resolved | None:
        """The operation and the tenant ids its path names, in its plan's order."""
        entry = self._by_method.get(method)
        if entry is None:
            return None
        matcher, operations, recent = entry
        resolved = recent.get(path)
        if resolved is not None:
            return resolved
        found = matcher.pattern.fullmatch(path)
        if found is None or found.lastgroup is None:
            return None
        operation, groups = operations[found.lastgroup]
        if not groups:
            resolved = operation, NO_IDS
        elif len(groups) == 1:
            resolved = operation, (found.group(groups[0]),)
        else:
            resolved = operation, found.group(*groups)
        recent.remember(path, resolved)
        return resolved

    def match(self, method: str, path: str) -> Operation | None:
        resolved = self.resolve(method, path)
        return resolved[0] if resolved else None

    def allowed_methods(self, path: str) -> list[str]:
        return [m for m, (matcher, _, _) in self._by_method.items() if matcher.match(path)]
