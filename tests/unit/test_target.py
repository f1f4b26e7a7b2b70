"""The request target forwarded (clause 3.3 a, c): refused paths and the one encoded form."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from termgate.core.memo import Memo
from termgate.core.tenant_ids import integer_id
from termgate.gateway import target
from termgate.gateway.target import checked_path, encoded_path, encoded_query, path_fault

# Paths made of what changes a path's meaning: dots and slashes, escapes left after decoding,
# reserved, control and non-ASCII characters, the replacement character.
PATH_PARTS = st.sampled_from(
    [
        "/",
        ".",
        "..",
        "%",
        "%2F",
        "%2e",
        "?",
        "#",
        "\\",
        "\r",
        "\n",
        "\x00",
        "\x7f",
        "\x85",
        "\ufffd",
        "é",
        "٣",
        " ",
        ";",
        "api",
        "7",
        "a.b",
        "~",
        "-",
        "_",
    ]
)
PATHS = st.one_of(
    st.lists(PATH_PARTS, max_size=12).map("".join),
    st.text(max_size=40),
    st.text(max_size=300).map(lambda tail: "/" + tail),  # past the length that is remembered
)


@pytest.mark.parametrize(
    ("path", "fault"),
    [
        ("api/x", "the path must start with /"),
        ("", "the path must start with /"),
        ("/api/debtors/7?x", "the path holds the character U+003F"),
        ("/api/debtors/7#x", "the path holds the character U+0023"),
        ("/api\\x", "the path holds the character U+005C"),
        ("/api/\x00", "the path holds the character U+0000"),
        ("/api/\r\nx", "the path holds the character U+000D"),
        ("/api/\x1f", "the path holds the character U+001F"),
        ("/api/\x7f", "the path holds the character U+007F"),
        ("/api/\x9f", "the path holds the character U+009F"),
        ("/api/\ufffd", "the path holds the character U+FFFD"),
        ("/api/./x", "the path holds a dot segment (. or ..)"),
        ("/api/../x", "the path holds a dot segment (. or ..)"),
        ("/api/..", "the path holds a dot segment (. or ..)"),
        ("/.", "the path holds a dot segment (. or ..)"),
    ],
)
def test_clause_3_3_c_path_the_gateway_refuses(path: str, fault: str) -> None:
    assert path_fault(path) == fault


@pytest.mark.parametrize(
    "path", ["/", "/api/debtors/7", "/api/a..b/x", "/api/.hidden", "/api/x.", "/api/\xa0", "/é"]
)
def test_clause_3_3_c_path_the_gateway_matches(path: str) -> None:
    assert path_fault(path) is None


@pytest.mark.parametrize(
    ("path", "sent"),
    [
        ("/api/debtors/7", "/api/debtors/7"),
        ("/api/A-z_0.9~/x", "/api/A-z_0.9~/x"),
        ("/api/a b", "/api/a%20b"),
        ("/api/é", "/api/%C3%A9"),
        ("/api/a%3Fb", "/api/a%253Fb"),
        ("/api/a;b", "/api/a%3Bb"),
        ("/api/٣", "/api/%D9%A3"),
    ],
)
def test_clause_3_3_a_path_is_forwarded_in_one_encoded_form(path: str, sent: str) -> None:
    assert encoded_path(path) == sent


@pytest.mark.parametrize(
    ("query", "sent"),
    [
        ("", ""),
        ("a=1&b=%20", "a=1&b=%20"),
        ("a=b c", "a=b%20c"),
        ("a=é", "a=%C3%A9"),
        ("a=\x01", "a=%01"),
        ("a=é&q=!$&'()*+,;=:@/?%[]~-._", "a=%C3%A9&q=!$&'()*+,;=:@/?%[]~-._"),
        ("a=é&b=<>", "a=%C3%A9&b=%3C%3E"),
    ],
)
def test_clause_3_3_a_query_is_forwarded_as_the_gateway_read_it(query: str, sent: str) -> None:
    assert encoded_query(query) == sent


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("0", True),
        ("7", True),
        ("123456789012345678", True),
        ("1234567890123456789", False),
        ("07", False),
        ("00", False),
        ("", False),
        ("٣", False),
        ("-1", False),
        ("1a", False),
    ],
)
def test_clause_3_3_a_company_ids_are_canonical_digits(raw: str, canonical: bool) -> None:
    assert (integer_id(raw) == raw) is canonical


def _uncached(path: str) -> tuple[str | None, str]:
    fault = path_fault(path)
    return fault, path if fault is not None else encoded_path(path)


@settings(max_examples=500)
@given(PATHS)
def test_clause_3_3_c_remembered_path_check_answers_as_the_full_check(path: str) -> None:
    """The first answer (computed) and the second (remembered) are the full checks' own."""
    assert checked_path(path) == _uncached(path)
    assert checked_path(path) == _uncached(path)


def test_clause_3_3_c_remembered_paths_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    longest = target.CHECKED.longest
    monkeypatch.setattr(target, "CHECKED", Memo(capacity=3, longest=longest))
    for index in range(10):
        assert checked_path(f"/api/{index}") == (None, f"/api/{index}")
        assert len(target.CHECKED) <= 3
    long = "/api/" + "x" * longest
    assert checked_path(long) == (None, long)
    assert long not in target.CHECKED
