"""Match a path against the operations' templates with compiled regular expressions.

Templates are ordered so a literal segment wins over a parameter at the same place
(`/api/debtors/info` before `/api/debtors/{debtorId}`); each template is one named alternative
whose groups capture its parameters (a parameter never spans a `/`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from termgate.reference_api.operations import Operation

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
    """One regular expression per number of path segments, so a path is tried only against the
    templates of its own length."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        by_template: dict[str, dict[str, Operation]] = {}
        for operation in operations:
            by_template.setdefault(operation.template, {})[operation.method] = operation
        by_length: dict[int, list[str]] = {}
        for template in sorted(by_template, key=_specificity):
            by_length.setdefault(template.count("/"), []).append(template)
        self._templates: dict[str, _Template] = {}
        self._regexes: dict[int, re.Pattern[str]] = {}
        for length, templates in by_length.items():
            alternatives, group = [], 0
            for template in templates:
                name = f"t{len(self._templates)}"
                names = tuple(_PARAM.findall(template))
                alternatives.append(f"(?P<{name}>{_pattern(template)})")
                allow = ", ".join(sorted(by_template[template])).encode()
                self._templates[name] = _Template(by_template[template], names, group, allow)
                group += 1 + len(names)
            self._regexes[length] = re.compile("|".join(alternatives))

    def match(self, method: str, path: str) -> Match | None:
        regex = self._regexes.get(path.count("/"))
        found = None if regex is None else regex.fullmatch(path)
        if found is None or found.lastgroup is None:
            return None
        template = self._templates[found.lastgroup]
        values = found.groups()[template.group + 1 : template.group + 1 + len(template.names)]
        params = dict(zip(template.names, values, strict=True))
        return Match(template.operations.get(method), params, template.allow)
