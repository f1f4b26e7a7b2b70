"""The tenancy configuration: which path parameters name a tenant and where each is learnt.

A TOML file (the published contract's is `published.toml` beside this module; docs/configuration.md
describes the format) declares tenant kinds in a tree under one root, the kind a consent names:

    [tenants.company]
    parameter = "companyId"          # the path parameter that names it
    parent = "debtor"                # the kind that owns it
    listing = "/api/debtors/{debtorId}/companies"   # its parent's listing of it, paged
    id_field = "companyId"           # the field of a listed item that holds its id
    global_listing = "/api/companies"               # optional: every one, with its parent
    parent_field = "debtorId"

`one_root_only` lists path templates that answer across the consent's roots and that the API
serves only to a consent over one root (the published `GET /api/companies`: 403 40306 otherwise).

`[children]` names path parameters that are checked through a tenant parameter the same path
carries (`contractId = "employeeId"`), and `[untenanted]` those that name no tenant's data.
Every path parameter of the API must be one of the three: `plan` refuses an operation whose path
has one the file does not describe, or a child without its tenant, rather than let it through.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from termgate.gateway.tenancy.ids import ID_FORMS, Canonical

PUBLISHED = "published.toml"
USAGE_ID_LENGTH = 64  # usage_events.debtor_id, company_id, employee_id
_PARAM = re.compile(r"\{([^{}/]+)\}")
_TOP_KEYS = {"page_size", "max_pages", "one_root_only", "tenants", "children", "untenanted"}
_KIND_KEYS = {
    "parameter",
    "id_form",
    "parent",
    "listing",
    "id_field",
    "global_listing",
    "parent_field",
}


class TenancyConfigError(ValueError):
    """The tenancy file is not valid; the message names the file, the key and the reason."""


@dataclass(frozen=True, slots=True)
class TenantKind:
    name: str
    parameter: str
    canonical: Canonical = field(compare=False)
    parent: str | None = None  # None for the root, the kind a consent names
    listing: str | None = None  # the parent's listing of this kind, with `{parent parameter}`
    id_field: str | None = None
    global_listing: str | None = None  # every item of this kind, each naming its parent
    parent_field: str | None = None

    @property
    def article(self) -> str:
        """`a company`, `an employee`: how refusals name the kind."""
        return f"{'an' if self.name[:1].lower() in 'aeiou' else 'a'} {self.name}"


@dataclass(frozen=True, slots=True)
class TenantPlan:
    """What the tenant check does for one path template: the tenant parameters in path order,
    or why every request to it is refused (clause 3.3 a fails closed); `one_root` when it answers
    only to a consent over one root."""

    tenants: tuple[tuple[str, TenantKind], ...] = ()
    refusal: str | None = None
    one_root: bool = False
    # Where the usage event's debtor, company and employee ids are in `tenants` (-1: not in the
    # path): the root's, its children's and their children's parameters (see `usage_ids`).
    usage_slots: tuple[int, int, int] = (-1, -1, -1)

    def ids_of(self, params: Mapping[str, str]) -> tuple[str, ...]:
        """The tenant ids of a path's parameters, in the order `check_path` takes them."""
        return tuple(params.get(parameter, "") for parameter, _ in self.tenants)

    def usage_ids(self, ids: tuple[str, ...]) -> tuple[str | None, str | None, str | None]:
        """The path's debtor, company and employee ids (as written, cut to the columns' 64
        characters) for the usage event; `ids` as `ids_of` orders them."""
        debtor, company, employee = self.usage_slots
        return (
            ids[debtor][:USAGE_ID_LENGTH] if debtor >= 0 else None,
            ids[company][:USAGE_ID_LENGTH] if company >= 0 else None,
            ids[employee][:USAGE_ID_LENGTH] if employee >= 0 else None,
        )


@dataclass(frozen=True, slots=True)
class TenancyConfig:
    kinds: dict[str, TenantKind]
    root: TenantKind
    children: dict[str, str]  # child path parameter → the tenant parameter it is checked through
    untenanted: frozenset[str]
    one_root_only: frozenset[str] = frozenset()
    page_size: int = 100
    max_pages: int = 10_000
    by_parameter: dict[str, TenantKind] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        by_parameter = {kind.parameter: kind for kind in self.kinds.values()}
        object.__setattr__(self, "by_parameter", by_parameter)

    def plan(self, template: str) -> TenantPlan:
        names = _PARAM.findall(template)
        tenants: list[tuple[str, TenantKind]] = []
        for name in names:
            kind = self.by_parameter.get(name)
            if kind is not None:
                tenants.append((name, kind))
            elif name in self.children:
                if self.children[name] not in names:
                    return TenantPlan(
                        refusal=f"{{{name}}} is checked through {{{self.children[name]}}}, "
                        "which this path does not carry"
                    )
            elif name not in self.untenanted:
                return TenantPlan(refusal=f"the tenancy configuration does not describe {{{name}}}")
        return TenantPlan(
            tenants=tuple(tenants),
            one_root=template in self.one_root_only,
            usage_slots=self._usage_slots(tenants),
        )

    def _usage_slots(self, tenants: list[tuple[str, TenantKind]]) -> tuple[int, int, int]:
        slots = [-1, -1, -1]
        for index, (_, kind) in enumerate(tenants):
            depth = self._depth(kind)
            if depth < len(slots) and slots[depth] < 0:
                slots[depth] = index
        return slots[0], slots[1], slots[2]

    def _depth(self, kind: TenantKind) -> int:
        """0 for the root, 1 for its children (companies), 2 below them (employees), ..."""
        depth = 0
        while kind.parent is not None:
            kind, depth = self.kinds[kind.parent], depth + 1
        return depth


def consent_roots(config: TenancyConfig, ids: Iterable[object]) -> frozenset[str]:
    """The roots a consent names, in canonical form (ids not in the root's form are dropped)."""
    form = config.root.canonical
    return frozenset(root for root in (form(str(raw)) for raw in ids) if root is not None)


def load_tenancy(path: Path | None = None) -> TenancyConfig:
    """The file at `path`, or the published contract's default shipped with the package."""
    if path is None:
        source = files("termgate.gateway.tenancy").joinpath(PUBLISHED)
        return parse_tenancy(source.read_text(encoding="utf-8"), PUBLISHED)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TenancyConfigError(f"{path}: cannot be read: {error.strerror}") from None
    return parse_tenancy(text, str(path))


def parse_tenancy(text: str, origin: str = "tenancy") -> TenancyConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise TenancyConfigError(f"{origin}: not valid TOML: {error}") from None
    return _Parser(origin).parse(data)


class _Parser:
    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, key: str, reason: str) -> TenancyConfigError:
        return TenancyConfigError(f"{self.origin}: {key}: {reason}")

    def table(self, value: Any, key: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.fail(f"{key}.{unknown[0]}" if key else unknown[0], "unknown key")
        return value

    def text(self, table: dict[str, Any], key: str, name: str, *, required: bool) -> str | None:
        value = table.get(name)
        if value is None:
            if required:
                raise self.fail(f"{key}.{name}", "is required")
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(f"{key}.{name}", "must be a non-empty string")
        return value

    def count(self, data: dict[str, Any], name: str, default: int, top: int) -> int:
        value = data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise self.fail(name, f"must be an integer from 1 to {top}")
        return value

    def parse(self, data: dict[str, Any]) -> TenancyConfig:
        self.table(data, "", _TOP_KEYS)
        tenants = data.get("tenants")
        if not isinstance(tenants, dict) or not tenants:
            raise self.fail("tenants", "must be a table of tenant kinds")
        kinds = {name: self.kind(name, spec) for name, spec in tenants.items()}
        root = self.tree(kinds)
        for kind in kinds.values():
            self.listings(kind, kinds)
        declared = {kind.parameter for kind in kinds.values()}
        if len(declared) != len(kinds):
            raise self.fail("tenants", "two kinds name the same path parameter")
        children = self.children(data.get("children", {}), declared)
        untenanted = self.untenanted(data.get("untenanted", {}), declared | set(children))
        return TenancyConfig(
            kinds=kinds,
            root=root,
            children=children,
            untenanted=untenanted,
            one_root_only=self.templates(data.get("one_root_only", [])),
            page_size=self.count(data, "page_size", 100, 1000),
            max_pages=self.count(data, "max_pages", 10_000, 1_000_000),
        )

    def kind(self, name: str, spec: Any) -> TenantKind:
        key = f"tenants.{name}"
        table = self.table(spec, key, _KIND_KEYS)
        form = self.text(table, key, "id_form", required=False) or "uuid"
        if form not in ID_FORMS:
            raise self.fail(f"{key}.id_form", f"must be one of {', '.join(sorted(ID_FORMS))}")
        parameter = self.text(table, key, "parameter", required=True)
        assert parameter is not None
        return TenantKind(
            name=name,
            parameter=parameter,
            canonical=ID_FORMS[form],
            parent=self.text(table, key, "parent", required=False),
            listing=self.text(table, key, "listing", required=False),
            id_field=self.text(table, key, "id_field", required=False),
            global_listing=self.text(table, key, "global_listing", required=False),
            parent_field=self.text(table, key, "parent_field", required=False),
        )

    def tree(self, kinds: dict[str, TenantKind]) -> TenantKind:
        roots = [kind for kind in kinds.values() if kind.parent is None]
        if len(roots) != 1:
            raise self.fail("tenants", f"needs exactly one kind without a parent, not {len(roots)}")
        for kind in kinds.values():
            seen = {kind.name}
            parent = kind.parent
            while parent is not None:
                if parent not in kinds:
                    raise self.fail(f"tenants.{kind.name}.parent", f"no kind is called {parent!r}")
                if parent in seen:
                    raise self.fail(f"tenants.{kind.name}.parent", "the parents form a cycle")
                seen.add(parent)
                parent = kinds[parent].parent
        return roots[0]

    def listings(self, kind: TenantKind, kinds: dict[str, TenantKind]) -> None:
        key = f"tenants.{kind.name}"
        if kind.parent is None:
            extra = [
                name for name in ("listing", "id_field", "global_listing") if getattr(kind, name)
            ]
            if extra:
                raise self.fail(f"{key}.{extra[0]}", "the root is named by the consent, not learnt")
            return
        parent = kinds[kind.parent]
        if kind.listing is None or kind.id_field is None:
            raise self.fail(key, "needs `listing` and `id_field`: where its ids are learnt")
        if _PARAM.findall(kind.listing) != [parent.parameter]:
            raise self.fail(
                f"{key}.listing", f"must name exactly the parent's parameter {{{parent.parameter}}}"
            )
        if kind.global_listing is None:
            if kind.parent_field is not None:
                raise self.fail(f"{key}.parent_field", "is only used with `global_listing`")
            return
        if _PARAM.search(kind.global_listing):
            raise self.fail(f"{key}.global_listing", "takes no path parameter")
        if kind.parent_field is None:
            raise self.fail(f"{key}.parent_field", "is required with `global_listing`")
        if parent.parent is not None:
            raise self.fail(f"{key}.global_listing", "is only supported under the root kind")

    def children(self, value: Any, declared: set[str]) -> dict[str, str]:
        table = self.table(value, "children", set(value) if isinstance(value, dict) else set())
        for child, through in table.items():
            if not isinstance(through, str) or through not in declared:
                raise self.fail(f"children.{child}", f"{through!r} is not a tenant parameter")
            if child in declared:
                raise self.fail(f"children.{child}", "is a tenant parameter itself")
        return dict(table)

    def templates(self, value: Any) -> frozenset[str]:
        if not isinstance(value, list) or not all(
            isinstance(t, str) and t.startswith("/") for t in value
        ):
            raise self.fail("one_root_only", "must be a list of path templates")
        for template in value:
            if _PARAM.search(template):
                raise self.fail("one_root_only", f"{template!r}: takes no path parameter")
        return frozenset(value)

    def untenanted(self, value: Any, declared: set[str]) -> frozenset[str]:
        table = self.table(value, "untenanted", {"parameters"})
        names = table.get("parameters", [])
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise self.fail("untenanted.parameters", "must be a list of parameter names")
        clash = sorted(set(names) & declared)
        if clash:
            raise self.fail("untenanted.parameters", f"{clash[0]!r} is declared elsewhere")
        return frozenset(names)
