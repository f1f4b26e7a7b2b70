"""One reading of a query string, shared by the gateway's limit step and the reference API.

The gateway caps `pageSize` (clause 3.3 e) only if it reads the query exactly as the API does:
two parsers that disagree on `+11`, `%2011`, `1_1`, `²` or a repeated name let a request
through the cap that the API then serves. Here ambiguous forms are refused instead of guessed:
a name given twice, an array form (`name[]`), and numbers other than plain ASCII digits.
"""

from __future__ import annotations

from urllib.parse import parse_qsl


class QueryError(ValueError):
    """The query cannot be read one way only; `name` is the parameter at fault."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


def _plain_parameters(raw: str) -> dict[str, str]:
    """`parse_query` of a query with no `%`, `+`, `[` or `]`: with nothing to decode, its
    fields split on `&` and their first `=` (empty fields skipped) are what `parse_qsl` reads,
    and no name can be an array form. The limit step reads every query; this is a fraction of
    `parse_qsl`'s cost."""
    parameters: dict[str, str] = {}
    for field in raw.split("&"):
        if field:
            name, _, value = field.partition("=")
            if name in parameters:
                raise QueryError(name, "is given more than once; send it once")
            parameters[name] = value
    return parameters


def parse_query(raw: str) -> dict[str, str]:
    """The query's parameters by name (percent-decoded as UTF-8, `+` as a space)."""
    if not ("%" in raw or "+" in raw or "[" in raw or "]" in raw):
        return _plain_parameters(raw)
    if "%" in raw or "+" in raw:
        return named_parameters(parse_qsl(raw, keep_blank_values=True, errors="replace"))
    return named_parameters(_plain_pairs(raw))


def named_parameters(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The pairs by name, refusing an array form (`name[]`) and a name given twice."""
    parameters: dict[str, str] = {}
    for name, value in pairs:
        if "[" in name or "]" in name:
            raise QueryError(name, "array parameters are not supported; send the name once")
        if name in parameters:
            raise QueryError(name, "is given more than once; send it once")
        parameters[name] = value
    return parameters


def _plain_pairs(raw: str) -> list[tuple[str, str]]:
    """`parse_qsl(raw, keep_blank_values=True)` of a query with no `%` and no `+`."""
    pairs = []
    for field in raw.split("&"):
        if field:
            name, _, value = field.partition("=")
            pairs.append((name, value))
    return pairs


def whole_number(value: str) -> int | None:
    """`value` as a number if it is written in plain ASCII digits only (no sign, space or `_`),
    at most nine of them. (`isdigit` alone also takes `²`; with `isascii` only 0-9 remain.)"""
    if len(value) <= 9 and value.isascii() and value.isdigit():
        return int(value)
    return None
