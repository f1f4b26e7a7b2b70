"""Reading the operations out of an OpenAPI 3.0 or 3.1 document, tolerantly.

A published document is rarely perfect. What the gateway cannot use is reported as an `Issue`
(where, what) and left out; everything else is served. Local `$ref`s are followed in path items,
parameters and security schemes; a reference elsewhere (another file, a URL) is reported.

Scopes come from each operation's `security`, else the document's top-level `security`, for any
scheme of type `oauth2` or `openIdConnect` whatever it is called. The requirement objects of the
list are alternatives (any one suffices); the scopes within one are all needed (OpenAPI), except
that a write scope listed with its own read scope (`employee.info` and `employee.info.read`)
counts once: either satisfies it. Since a granted write scope X also grants X.read
(`bearer.granted_scopes`), that requirement is kept as X.read alone. An empty requirement `{}`,
or one of schemes without scopes only, lets any valid token through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from termgate.core.wire import METHODS
from termgate.gateway.matcher import template_parameters

READ_SUFFIX = ".read"
SCOPED_SCHEMES = frozenset({"oauth2", "openIdConnect"})
_MAX_REF_DEPTH = 32


@dataclass(frozen=True, slots=True)
class Issue:
    """Something in the document the gateway could not use as written, and what it did."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass(frozen=True, slots=True)
class OperationSpec:
    """What the catalog needs of one operation, as the document describes it."""

    operation_id: str
    method: str
    template: str
    scope_alternatives: tuple[frozenset[str], ...]
    data_category: str | None
    paged: bool
    default_page_size: int | None
    accepts_body: bool


class RefError(ValueError):
    """A `$ref` that does not lead to an object of this document."""


class DocumentReader:
    """One pass over a document: `operations()` answers the operations and the issues."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.issues: list[Issue] = []
        self._undeclared: dict[str, int] = {}
        self._schemes = self._scheme_types()

    def report(self, where: str, what: str) -> None:
        self.issues.append(Issue(where, what))

    def resolve(self, value: Any) -> Any:
        """`value` with its `$ref` followed (siblings of the `$ref` override the target's)."""
        for _ in range(_MAX_REF_DEPTH):
            if not isinstance(value, dict) or "$ref" not in value:
                return value
            reference = value["$ref"]
            if not isinstance(reference, str) or not reference.startswith("#/"):
                raise RefError(f"$ref {reference!r} is not a reference inside this document")
            target: Any = self.document
            for token in reference[2:].split("/"):
                key = token.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or key not in target:
                    raise RefError(f"$ref {reference!r} leads nowhere")
                target = target[key]
            siblings = {key: item for key, item in value.items() if key != "$ref"}
            value = {**target, **siblings} if siblings and isinstance(target, dict) else target
        raise RefError("$ref chain too long (a cycle?)")

    def _scheme_types(self) -> dict[str, str | None]:
        components = self.document.get("components")
        schemes = components.get("securitySchemes") if isinstance(components, dict) else None
        types: dict[str, str | None] = {}
        for name, scheme in (schemes or {}).items() if isinstance(schemes, dict) else ():
            try:
                resolved = self.resolve(scheme)
            except RefError as error:
                self.report(f"components/securitySchemes/{name}", f"{error}; scheme ignored")
                continue
            types[str(name)] = resolved.get("type") if isinstance(resolved, dict) else None
        return types

    def _check_servers(self) -> None:
        """The paths are matched as written: a base path in the first server's URL (which the
        requests would carry before them) is reported, not prepended."""
        servers = self.document.get("servers")
        first = servers[0] if isinstance(servers, list) and servers else None
        url = first.get("url") if isinstance(first, dict) else None
        if not isinstance(url, str) or "{" in url:
            return
        base = urlsplit(url).path.rstrip("/")
        if base:
            self.report(
                "servers",
                f"the first server's URL has the base path {base}; the gateway matches the paths "
                "as written, without it",
            )

    def operations(self) -> list[OperationSpec]:
        self._check_servers()
        paths = self.document.get("paths")
        if not isinstance(paths, dict):
            self.report("paths", "missing or not an object; no operation can be served")
            return []
        found: list[OperationSpec] = []
        for template, raw_item in paths.items():
            try:
                item = self.resolve(raw_item)
            except RefError as error:
                self.report(f"paths/{template}", f"{error}; its operations are not served")
                continue
            if not isinstance(item, dict):
                self.report(f"paths/{template}", "not an object; its operations are not served")
                continue
            for method in METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                where = f"{method.upper()} {template}"
                if not isinstance(operation, dict):
                    self.report(where, "not an object; the operation is not served")
                    continue
                spec = self._operation(str(template), method, item, operation)
                if spec is not None:
                    found.append(spec)
        for name, count in self._undeclared.items():
            self.report(
                f"components/securitySchemes/{name}",
                f"not declared but named by {count} operation(s); its scopes are taken as "
                "OAuth scopes",
            )
        return found

    def _operation(
        self, template: str, method: str, item: dict[str, Any], operation: dict[str, Any]
    ) -> OperationSpec | None:
        where = f"{method.upper()} {template}"
        scopes = self._scopes(operation, where)
        if scopes is None:
            return None
        parameters = self._parameters(item, operation, where)
        self._check_path_parameters(template, parameters, where)
        paged, default_page_size = _page_size(parameters)
        category = operation.get("x-data-category")
        return OperationSpec(
            operation_id=str(operation.get("operationId") or f"{method} {template}"),
            method=method.upper(),
            template=template,
            scope_alternatives=scopes,
            data_category=category if isinstance(category, str) else None,
            paged=paged,
            default_page_size=default_page_size,
            accepts_body="requestBody" in operation,
        )

    def _parameters(
        self, item: dict[str, Any], operation: dict[str, Any], where: str
    ) -> list[dict[str, Any]]:
        """The operation's parameters with the path item's, references followed; an operation's
        parameter replaces the path item's of the same name and location."""
        chosen: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in [*(item.get("parameters") or ()), *(operation.get("parameters") or ())]:
            try:
                parameter = self.resolve(raw)
            except RefError as error:
                self.report(where, f"parameter {error}; ignored")
                continue
            if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
                self.report(where, "a parameter without a name; ignored")
                continue
            chosen[(parameter["name"], str(parameter.get("in")))] = parameter
        return list(chosen.values())

    def _check_path_parameters(
        self, template: str, parameters: list[dict[str, Any]], where: str
    ) -> None:
        named = template_parameters(template)
        declared = [p["name"] for p in parameters if p.get("in") == "path"]
        for name in declared:
            if name in named:
                continue
            twin = next((n for n in named if n.lower() == name.lower()), None)
            if twin is not None and twin not in declared:
                self.report(
                    where,
                    f"path parameter {name!r} is declared for the template's {{{twin}}} (the "
                    "case differs); the template is matched as written",
                )
            else:
                self.report(where, f"path parameter {name!r} is not in the template; ignored")
        for name in named:
            if name not in declared and not any(d.lower() == name.lower() for d in declared):
                self.report(where, f"the template's {{{name}}} is not declared as a parameter")

    def _scopes(self, operation: dict[str, Any], where: str) -> tuple[frozenset[str], ...] | None:
        """The scope alternatives (empty: any valid token), or None when `security` is unusable
        (the operation is then not served: refusing is safer than guessing)."""
        security = operation.get("security")
        if security is None:
            security = self.document.get("security")
        if security is None:
            self.report(where, "no security requirement; any valid access token may call it")
            return ()
        if not isinstance(security, list) or not all(isinstance(r, dict) for r in security):
            self.report(where, "security is not a list of requirement objects; not served")
            return None
        alternatives: list[frozenset[str]] = []
        for requirement in security:
            scopes: set[str] = set()
            for scheme, listed in requirement.items():
                kind = self._schemes.get(scheme)
                if scheme not in self._schemes:
                    self._undeclared[scheme] = self._undeclared.get(scheme, 0) + 1
                elif kind not in SCOPED_SCHEMES:
                    continue  # an API key or HTTP scheme: roles, if any, are not OAuth scopes
                if not isinstance(listed, list) or not all(isinstance(s, str) for s in listed):
                    self.report(where, f"the scopes of {scheme!r} are not a list; not served")
                    return None
                scopes.update(listed)
            if not scopes:
                return ()  # this alternative needs no scope
            alternative = frozenset(s for s in scopes if s + READ_SUFFIX not in scopes)
            if alternative not in alternatives:
                alternatives.append(alternative)
        return tuple(alternatives)


def _page_size(parameters: list[dict[str, Any]]) -> tuple[bool, int | None]:
    """Whether the operation takes `pageSize` in its query, and its documented default."""
    for parameter in parameters:
        if parameter.get("name") == "pageSize" and parameter.get("in") == "query":
            schema = parameter.get("schema")
            default = schema.get("default") if isinstance(schema, dict) else None
            return True, default if isinstance(default, int) else None
    return False, None
