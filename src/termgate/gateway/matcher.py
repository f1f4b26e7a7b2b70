"""Path templates of one method compiled into one regular expression shaped as a tree.

The templates share their prefixes: `/api/companies/{companyId}/employees/...` is spelled once
and branches where the templates differ, so a request is one C-level `fullmatch` that reads each
segment of its path once, however many operations the API has (an alternation of whole
templates would re-read the shared prefix for every template before the one that matches).

At each branch a literal segment is tried before a segment mixing text and parameters, and that
before a bare parameter, so `/api/debtors/info` wins over `/api/debtors/{debtorId}`; when the
literal branch cannot complete the path the engine backtracks into the parameter's branch. A
parameter matches one whole segment or its part (`[^/]+`), never a `/`.

Each template ends in an empty group named after it; that group closes last, so the match's
`lastgroup` names the template. Every parameter has a capturing group of its own, so the values
come out of the same match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PARAMETER = re.compile(r"\{([^{}/]*)\}")
_ANY = "[^/]+"


class TemplateError(ValueError):
    """A path template the matcher cannot use (the message says why)."""


def template_parameters(template: str) -> list[str]:
    """The parameter names of `template`, in order."""
    return PARAMETER.findall(template)


def check_template(template: str) -> None:
    """Raise `TemplateError` unless `template` is a usable path template."""
    if not template.startswith("/"):
        raise TemplateError("a path template starts with /")
    names = template_parameters(template)
    if any(not name for name in names):
        raise TemplateError("a parameter without a name ({})")
    if "{" in PARAMETER.sub("", template) or "}" in PARAMETER.sub("", template):
        raise TemplateError("an unbalanced { or }")
    if len(set(names)) != len(names):
        raise TemplateError("a parameter named twice")


def shape(template: str) -> str:
    """The template with its parameter names left out: templates of one shape match the same
    paths (OpenAPI calls them identical)."""
    return PARAMETER.sub("{}", template)


@dataclass
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    mixed: dict[str, _Node] = field(default_factory=dict)
    parameter: _Node | None = None
    ends: str | None = None  # the name of the template that ends here


def _rank(segment: str) -> tuple[int, str]:
    """Mixed segments with more literal text first: they are the more specific."""
    return (-len(segment.replace("{}", "")), segment)


class TreeMatcher:
    """One method's templates; `match` answers the template's name and the match."""

    def __init__(self, templates: dict[str, str]) -> None:
        """`templates` maps a name (a valid group name) to a checked template of its own shape."""
        root = _Node()
        for name, template in templates.items():
            node = root
            for segment in template.split("/")[1:]:
                if not PARAMETER.search(segment):
                    node = node.literal.setdefault(segment, _Node())
                elif PARAMETER.fullmatch(segment):
                    node.parameter = node.parameter or _Node()
                    node = node.parameter
                else:
                    node = node.mixed.setdefault(shape(segment), _Node())
            node.ends = name
        self._counter = 0
        # the parameter groups along each template, in template order
        self._groups: dict[str, list[str]] = {}
        self.pattern = re.compile(self._below(root, []))
        index = self.pattern.groupindex
        self.groups: dict[str, tuple[int, ...]] = {
            name: tuple(index[group] for group in groups) for name, groups in self._groups.items()
        }

    def _group(self) -> str:
        self._counter += 1
        return f"p{self._counter}"

    def _below(self, node: _Node, groups: list[str]) -> str:
        """The paths below `node`: `/` and one of its child segments, then what follows it."""
        branches: list[str] = []
        for segment in sorted(node.literal):
            branches.append(re.escape(segment) + self._after(node.literal[segment], groups))
        for segment in sorted(node.mixed, key=_rank):
            mixed_groups = list(groups)
            regex = self._mixed(segment, mixed_groups)
            branches.append(regex + self._after(node.mixed[segment], mixed_groups))
        if node.parameter is not None:
            group = self._group()
            branches.append(f"(?P<{group}>{_ANY})" + self._after(node.parameter, [*groups, group]))
        return "/" + (branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")")

    def _mixed(self, segment: str, groups: list[str]) -> str:
        parts: list[str] = []
        for index, piece in enumerate(segment.split("{}")):
            if index:
                group = self._group()
                groups.append(group)
                parts.append(f"(?P<{group}>{_ANY})")
            parts.append(re.escape(piece))
        return "".join(parts)

    def _after(self, node: _Node, groups: list[str]) -> str:
        """What may follow a segment that led to `node`: deeper segments, or the path's end."""
        options: list[str] = []
        if node.literal or node.mixed or node.parameter is not None:
            options.append(self._below(node, groups))
        if node.ends is not None:
            self._groups[node.ends] = groups
            options.append(f"(?P<{node.ends}>)")
        return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"

    def match(self, path: str) -> re.Match[str] | None:
        found = self.pattern.fullmatch(path)
        return found if found is not None and found.lastgroup is not None else None
