"""Match a path against every operation's template with one compiled regular expression.

Templates are ordered so a literal segment wins over a parameter at the same place
(`/api/debtors/info` before `/api/debtors/{debtorId}/...`); each template is one named alternative
whose groups capture its parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from termgate.published_api.operations import Operation

_PARAM = re.compile(r"\{([^{}/]+)\}")


@dataclass(frozen=True, slots=True)
class _Template:
    operations: dict[str, Operation]  # by method
    names: tuple[str, ...]
    group: int  # index of the template's own group in `Match.groups()`
    allow: bytes


@dataclass(frozen=True, slots=True)
class Match:
    """A path that names a template: its operation for the method (None: method not allowed)."""

    operation: Operation | None
    params: dict[str, str]
    allow: bytes


def _specificity(template: str) -> list[bool]:
    return [part.startswith("{") for part in template.split("/")]


def _pattern(template: str) -> str:
    pieces, position = [], 0
    for found in _PARAM.finditer(template):
        pieces.append(re.escape(template[position : found.start()]))
        pieces.append("([^/]+)")
        position = found.end()
    pieces.append(re.escape(template[position:]))
    return "".join(pieces)


class Router:
    def __init__(self, operations: Iterable[Operation]) -> None:
        by_template: dict[str, dict[str, Operation]] = {}
        for operation in operations:
            by_template.setdefault(operation.template, {})[operation.method] = operation
        alternatives = []
        self._templates: dict[str, _Template] = {}
        group = 0
        for index, template in enumerate(sorted(by_template, key=_specificity)):
            methods = by_template[template]
            names = tuple(_PARAM.findall(template))
            alternatives.append(f"(?P<t{index}>{_pattern(template)})")
            allow = ", ".join(sorted(methods)).encode()
            self._templates[f"t{index}"] = _Template(methods, names, group, allow)
            group += 1 + len(names)
        self._regex = re.compile("|".join(alternatives))

    def match(self, method: str, path: str) -> Match | None:
        found = self._regex.fullmatch(path)
        if found is None or found.lastgroup is None:
            return None
        template = self._templates[found.lastgroup]
        values = found.groups()[template.group + 1 : template.group + 1 + len(template.names)]
        params = dict(zip(template.names, values, strict=True))
        return Match(template.operations.get(method), params, template.allow)
