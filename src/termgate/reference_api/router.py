"""Match a path against every route template with one compiled regular expression.

Templates are ordered so a literal segment wins over a parameter at the same place
(`/employees/salaries` before `/employees/{employeeId}`); each template is one named alternative
whose unnamed groups capture its parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from termgate.reference_api.routes import Route

_PARAM = re.compile(r"\{[^{}/]+\}")


@dataclass(frozen=True, slots=True)
class _Template:
    routes: dict[str, Route]  # by method
    group: int  # index of the template's own group in `Match.groups()`
    params: int
    allow: bytes


@dataclass(frozen=True, slots=True)
class Match:
    """A path that names a template: its route for the method (None: method not allowed)."""

    route: Route | None
    params: tuple[str, ...]
    allow: bytes


def _specificity(template: str) -> list[bool]:
    return [part.startswith("{") for part in template.split("/")]


def _pattern(template: str) -> str:
    pieces = []
    position = 0
    for found in _PARAM.finditer(template):
        pieces.append(re.escape(template[position : found.start()]))
        pieces.append("([^/]+)")
        position = found.end()
    pieces.append(re.escape(template[position:]))
    return "".join(pieces)


class Router:
    def __init__(self, routes: Iterable[Route]) -> None:
        by_template: dict[str, dict[str, Route]] = {}
        for route in routes:
            by_template.setdefault(route.template, {})[route.method] = route
        alternatives = []
        self._templates: dict[str, _Template] = {}
        group = 0
        for index, template in enumerate(sorted(by_template, key=_specificity)):
            methods = by_template[template]
            params = len(_PARAM.findall(template))
            name = f"t{index}"
            alternatives.append(f"(?P<{name}>{_pattern(template)})")
            allow = ", ".join(sorted(methods)).encode()
            self._templates[name] = _Template(methods, group, params, allow)
            group += 1 + params
        self._regex = re.compile("|".join(alternatives))

    def match(self, method: str, path: str) -> Match | None:
        found = self._regex.fullmatch(path)
        if found is None or found.lastgroup is None:
            return None
        template = self._templates[found.lastgroup]
        groups = found.groups()
        params: tuple[str, ...] = groups[template.group + 1 : template.group + 1 + template.params]
        return Match(template.routes.get(method), params, template.allow)
