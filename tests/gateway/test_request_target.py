"""The request target and query reading the gateway shares with the API, as pure functions."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from termgate.gateway.target import encoded_path, encoded_query, path_fault
from termgate.query import QueryError, parse_query, whole_number


@settings(max_examples=300, deadline=None)
@given(segments=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=5))
def test_clause_3_3_a_forwarded_path_decodes_to_exactly_the_matched_path(
    segments: list[str],
) -> None:
    """What the upstream decodes from the forwarded target is the path the gateway matched, and
    the target is one request-target path: no `?`, `#`, space or control byte in it."""
    path = "/" + "/".join(segment.replace("/", "-") for segment in segments)
    if path_fault(path) is not None:
        return
    target = encoded_path(path)
    assert target.isascii()
    assert target.isprintable()
    assert not set(target) & set("?# \\")
    assert urlsplit(target).path == target
    assert unquote(target, errors="strict") == path


@pytest.mark.parametrize(
    "path",
    [
        "/api/companies/2001/employees/salaries?",
        "/api/companies/2001/employees/salaries#",
        "/api/companies/2001/employees/1\r\nX-Termgate-Debtors: 1002",
        "/api/debtors/1001\x00",
        "/api/debtors/1001\t",
        "/api/debtors/1001\x85",
        "/api/debtors/1001\\..",
        "/api/debtors/\ufffd",
        "/api/debtors/..",
        "/api/debtors/1001/../1002",
        "/api/debtors/./1001",
        "api/debtors",
    ],
)
def test_clause_3_3_c_odd_decoded_paths_are_refused(path: str) -> None:
    assert path_fault(path) is not None


@pytest.mark.parametrize(
    "path", ["/api/debtors/1001", "/api/companies/2001/employees/€", "/a/..b/c.d", "/a/%25"]
)
def test_clause_3_2_ordinary_paths_pass(path: str) -> None:
    assert path_fault(path) is None


def test_clause_3_3_a_query_keeps_escapes_and_encodes_raw_characters() -> None:
    assert encoded_query("pageSize=5&q=%C2%B2") == "pageSize=5&q=%C2%B2"
    assert encoded_query("q=€ x") == "q=%E2%82%AC%20x"
    assert parse_query(encoded_query("q=€")) == parse_query("q=€") == {"q": "€"}


@pytest.mark.parametrize(
    ("value", "number"),
    [
        *[("10", 10), ("0", 0), ("+11", None), (" 11", None), ("1_1", None), ("²", None)],
        *[("١١", None), ("１１", None), ("-1", None), ("1e2", None), ("", None), ("1" * 10, None)],
    ],
)
def test_clause_3_3_e_page_size_is_plain_ascii_digits(value: str, number: int | None) -> None:
    assert whole_number(value) == number


@pytest.mark.parametrize("query", ["pageSize=1&pageSize=2", "pageSize[]=5", "a[0]=1", "a=1&a=1"])
def test_clause_3_3_e_ambiguous_query_forms_are_refused(query: str) -> None:
    with pytest.raises(QueryError):
        parse_query(query)


def test_clause_3_3_e_query_names_are_read_decoded() -> None:
    assert parse_query("page%53ize=50&pageNumber=2") == {"pageSize": "50", "pageNumber": "2"}
    assert parse_query("pageSize=+11") == {"pageSize": " 11"}


@settings(max_examples=500, deadline=None)
@given(
    query=st.text(alphabet=st.sampled_from("ab=&;[]?/ é€%+2F"), max_size=24)
    | st.lists(
        st.tuples(st.sampled_from(["pageSize", "pageNumber", "q", ""]), st.text(max_size=6)),
        max_size=4,
    ).map(lambda pairs: "&".join(f"{name}={value}" for name, value in pairs))
)
def test_clause_3_3_e_query_reading_matches_the_standard_parser(query: str) -> None:
    """The limit step's quick reading of plain queries (no `%`, no `+`) gives what
    `parse_qsl` gives, so the page size the gateway caps is the one the API reads."""
    try:
        expected: dict[str, str] | None = {}
        for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
            assert expected is not None
            if "[" in name or "]" in name or name in expected:
                expected = None
                break
            expected[name] = value
    except ValueError:
        expected = None
    try:
        read: dict[str, str] | None = parse_query(query)
    except QueryError:
        read = None
    assert read == expected
