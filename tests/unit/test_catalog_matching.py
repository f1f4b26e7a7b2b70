"""Matching a request path to its operation (clause 3.2), as properties: every path of the
published document, filled with GUIDs and odd but valid segment values, matches its own
operation; and over random sets of templates the compiled matcher answers what a brute-force
reading of the precedence rule answers (a literal segment wins over a parameter, the earliest
segment where two templates differ deciding)."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from termgate.core.wire import METHODS
from termgate.gateway import catalog as catalog_module
from termgate.gateway.catalog import Catalog
from termgate.gateway.tenancy.config import parse_tenancy
from tests.support.contract import published_document

# Segment values no template has as a literal: they can only fill a parameter.
ODD = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.text(st.characters(exclude_characters="/", codec="utf-8"), min_size=1, max_size=12),
    st.sampled_from(["0", "-1", "١٠٠١", "a b", "%2F", "?", "#", ".x", "{companyId}", "é€"]),
)


@cache
def published() -> Catalog:
    return Catalog.from_openapi(published_document())


@cache
def literals() -> frozenset[str]:
    return frozenset(
        part for template in published_document()["paths"] for part in template.split("/")
    )


@cache
def operations() -> list[tuple[str, str, str]]:
    return [
        (method.upper(), template, item[method]["operationId"])
        for template, item in published_document()["paths"].items()
        for method in METHODS
        if method in item
    ]


def fill(template: str, values: list[str]) -> tuple[str, dict[str, str]]:
    parts, params = [], {}
    for part in template.split("/"):
        if part.startswith("{"):
            value = values[len(params) % len(values)]
            params[part[1:-1]] = value
            parts.append(value)
        else:
            parts.append(part)
    return "/".join(parts), params


@settings(max_examples=300, deadline=None)
@given(index=st.integers(0, 122), values=st.lists(ODD, min_size=1, max_size=4))
def test_clause_3_2_every_path_of_the_document_matches_its_own_operation(
    index: int, values: list[str]
) -> None:
    values = [value for value in values if value not in literals()] or ["x-not-a-literal"]
    method, template, operation_id = operations()[index]
    path, params = fill(template, values)
    resolved = published().resolve(method, path)
    assert resolved is not None, path
    op, tenants = resolved
    assert (op.template, op.operation_id) == (template, operation_id)
    assert op.path_params(path) == params
    assert tenants == op.tenancy.ids_of(params)
    assert len(tenants) == sum(name in TENANT_PARAMETERS for name in params)


def brute_force(templates: list[str], path: str) -> str | None:
    """The most specific template matching `path`: per segment, literal over parameter."""
    parts = path.split("/")
    best: tuple[tuple[int, ...], str] | None = None
    for template in templates:
        pieces = template.split("/")
        if len(pieces) != len(parts):
            continue
        pairs = zip(pieces, parts, strict=True)
        if all((p.startswith("{") and s != "") or p == s for p, s in pairs):
            rank = tuple(0 if p.startswith("{") else 1 for p in pieces)
            if best is None or rank > best[0]:
                best = (rank, template)
    return best[1] if best else None


TENANT_PARAMETERS = {"debtorId", "companyId", "employeeId"}  # the published tenancy's kinds
# Company ids under a debtor; the other parameters of the generated templates name no tenant.
NUMBERED_TENANCY = parse_tenancy(
    """
[tenants.debtor]
parameter = "debtorId"

[tenants.company]
parameter = "companyId"
parent = "debtor"
listing = "/d/{debtorId}/c"
id_field = "companyId"

[untenanted]
parameters = ["p0", "p1", "p2", "p3", "p4"]
"""
)
WORDS = ["a", "b", "ab", "info", "x"]
SEGMENT = st.one_of(st.sampled_from(WORDS), st.just("{p}"))
TEMPLATE = st.lists(SEGMENT, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))


def numbered(template: str) -> str:
    """Distinct parameter names, as a template must have; the first names a tenant."""
    parts = template.split("/")
    named = [f"{{p{i}}}" if part == "{p}" else part for i, part in enumerate(parts)]
    first = next((i for i, part in enumerate(named) if part.startswith("{")), None)
    if first is not None:
        named[first] = "{companyId}"
    return "/".join(named)


@settings(max_examples=400, deadline=None)
@given(
    templates=st.lists(TEMPLATE.map(numbered), min_size=1, max_size=12, unique_by=lambda t: t),
    path=st.lists(st.sampled_from([*WORDS, "zz", ""]), min_size=1, max_size=4),
)
def test_clause_3_2_literal_segments_win_over_parameters_in_any_set_of_templates(
    templates: list[str], path: list[str]
) -> None:
    document = {"paths": {t: {"get": {"operationId": f"op{i}"}} for i, t in enumerate(templates)}}
    catalog = Catalog.from_openapi(document, NUMBERED_TENANCY)
    request = "/" + "/".join(path)
    expected = brute_force(templates, request)
    resolved = catalog.resolve("GET", request)
    assert (resolved[0].template if resolved else None) == expected
    if resolved is not None and expected is not None:  # the tenant from the same match
        pieces = expected.split("/")
        at = pieces.index("{companyId}") if "{companyId}" in pieces else None
        assert resolved[1] == (() if at is None else (request.split("/")[at],))


def test_clause_3_2_a_segment_mixing_text_and_parameters_is_matched_by_its_text() -> None:
    templates = ["/f/{a}.json", "/f/x{a}.json", "/f/{a}", "/f/{a}.{b}"]
    catalog = Catalog.from_openapi({"paths": {t: {"get": {}} for t in templates}})
    cases = {
        "/f/x1.json": ("/f/x{a}.json", {"a": "1"}),
        "/f/y.json": ("/f/{a}.json", {"a": "y"}),
        "/f/x.json": ("/f/{a}.json", {"a": "x"}),
        "/f/a.b": ("/f/{a}.{b}", {"a": "a", "b": "b"}),
        "/f/y": ("/f/{a}", {"a": "y"}),
    }
    for path, (template, params) in cases.items():
        op = catalog.match("GET", path)
        assert op is not None, path
        assert (op.template, op.path_params(path)) == (template, params)


@cache
def second() -> Catalog:
    return Catalog.from_openapi(published_document())


def forgetful(method: str, path: str) -> object:
    """What `second()` answers with nothing remembered."""
    for _, _, recent in second()._by_method.values():
        recent.clear()
    return second().resolve(method, path)


@settings(max_examples=300, deadline=None)
@given(index=st.integers(0, 122), values=st.lists(ODD, min_size=1, max_size=4))
def test_clause_3_2_remembered_match_answers_as_a_catalog_that_never_saw_the_path(
    index: int, values: list[str]
) -> None:
    """`resolve` remembers its answers per path: asked again, and with the other methods, it
    answers what a match with nothing remembered answers."""
    method, template, _ = operations()[index]
    path, _ = fill(template, values)
    for _ in range(2):
        for other in ("GET", "POST", "PUT", "DELETE", method):
            assert published().resolve(other, path) == forgetful(other, path)


def test_clause_3_2_remembered_matches_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog_module, "RECENT_PATHS", 3)  # read when a catalog is built
    document = {"paths": {"/c/{companyId}": {"get": {"operationId": "one"}}}}
    catalog = Catalog.from_openapi(document, NUMBERED_TENANCY)
    for index in range(10):
        resolved = catalog.resolve("GET", f"/c/{index}")
        assert resolved is not None
        assert resolved[1] == (str(index),)
    long = "/c/" + "1" * catalog_module.RECENT_PATH_LENGTH
    assert catalog.resolve("GET", long) is not None
    recent = [entry[2] for entry in catalog._by_method.values()]
    assert all(len(paths) <= 3 and long not in paths for paths in recent)
