"""Issue 11: the request the application sees is the one granian (the server termgate ran on
before, and still the reference API's) gives for the same bytes, so the gateway authorises
exactly the request the upstream will serve (clause 3.3 a). The deliberate differences are
asserted as such."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http_server.client import request
from tests.http_server.conftest import Running

PIECES = ["a", "Z", "0", "-", ".", "_", "~", "/", "+", ";", "=", "&", ",", ":", "@", "!", "$",
          "%2F", "%2f", "%00", "%ff", "%FF", "%zz", "%", "%2", "%25", "%20", "%3F", "%23",
          "%e2%82%ac", "%C3%A9", "%c3", "..", "//", "#", "\\"]  # fmt: skip
NAMES = [
    "x-a",
    "X-A",
    "x-A",
    "X-b",
    "x-b",
    "accept",
    "Accept",
    "x-obs",
    "X-Many-Dashes-Here",
    "x_a",
]
METHODS = st.sampled_from(["GET", "HEAD", "DELETE", "OPTIONS", "PATCH", "PROPFIND"])
VERSIONS = st.sampled_from(["1.1", "1.0"])
VALUE_CHARS = st.sampled_from([*"abcXYZ019 ,;=/\"'()\t", "\x80", "\xe9", "\xff"])  # OWS too

paths = st.lists(st.sampled_from(PIECES), max_size=8).map(lambda parts: "/" + "".join(parts))
queries = st.one_of(
    st.just(""),
    st.just("?"),
    st.lists(st.sampled_from([*PIECES, "?"]), max_size=8).map(lambda parts: "?" + "".join(parts)),
)
forms = st.sampled_from(
    ["", "http://test", "https://other.example:8443", "HTTP://H", "http://u:p@h:99"]
)
values = st.text(VALUE_CHARS, max_size=12)
header_lists = st.lists(st.tuples(st.sampled_from(NAMES), values), max_size=6)


def raw(
    target: str, headers: list[tuple[str, str]], method: str = "GET", version: str = "1.1"
) -> bytes:
    head = [f"{method} {target} HTTP/{version}", "host: test"]
    lines = [*head, *(f"{n}: {v}" for n, v in headers), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def comparable(seen: dict[str, Any]) -> dict[str, Any]:
    del seen["client"]
    return seen


def grouped(items: list[list[str]]) -> list[list[str]]:
    """Fields grouped by name in the order of each name's first line, as granian lists them (ours
    keeps the wire's order; the order of lines of one name, the one that matters, is the same)."""
    names = list(dict.fromkeys(name for name, _ in items))
    return [item for name in names for item in items if item[0] == name]


def without_obs_text(seen: dict[str, Any]) -> dict[str, Any]:
    """Ours as granian gives it: granian leaves a line whose value is not ASCII out of items()
    and get_all(), and its get() answers None when the first line of the name is such a line."""
    kept = [item for item in grouped(seen["items"]) if item[1].isascii()]
    names = sorted({name for name, _ in kept})
    return {
        **seen,
        "items": kept,
        "get": {name: ascii_or_none(seen["get"][name]) for name in names},
        "get_all": {name: [v for n, v in kept if n == name] for name in names},
        "probe": {name: ascii_or_none(value) for name, value in seen["probe"].items()},
    }


def ascii_or_none(value: str | None) -> str | None:
    return value if value is None or value.isascii() else None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=paths, query=queries, form=forms, headers=header_lists, method=METHODS, version=VERSIONS
)
def test_issue_11_clause_3_3_a_the_scope_is_granians_for_the_same_bytes(
    ours: Running,
    granian: int,
    path: str,
    query: str,
    form: str,
    headers: list[tuple[str, str]],
    method: str,
    version: str,
) -> None:
    data = raw(form + path + query, headers, method, version)
    if method == "HEAD":  # the scope is seen through the echo, so HEAD is sent as GET's twin
        data = data.replace(b"HEAD", b"GET", 1)
    mine, theirs = request(ours.port, data), request(granian, data)
    assert (mine.status, theirs.status) == (200, 200), (mine.body, theirs.body)
    seen, reference = comparable(mine.json()), comparable(theirs.json())  # type: ignore[arg-type]
    if version == "1.0":  # granian names HTTP/1.0 "1"; ours "1.0", the name ASGI (the bridge) wants
        assert (seen["http_version"], reference["http_version"]) == ("1.0", "1")
        reference["http_version"] = "1.0"
    assert without_obs_text(seen) == reference
    # Ours keeps an obs-text value, as latin-1, as sent but for the whitespace around it.
    assert seen["items"] == [["host", "test"], *([n.lower(), v.strip(" \t")] for n, v in headers)]


def test_issue_11_a_raw_non_ascii_target_is_refused_by_both(ours: Running, granian: int) -> None:
    data = "GET /caf\xe9?q=\xe9 HTTP/1.1\r\nhost: test\r\n\r\n".encode("latin-1")
    calls = ours.app.calls
    mine = request(ours.port, data)
    assert mine.status == 400
    assert mine.header("content-type") == "application/problem+json"
    assert ours.app.calls == calls
    assert request(granian, data).status == 400


TARGETS_GRANIAN_SERVED = ["http://h:99999/p", "host:443", "http://[::1/p"]


def test_issue_11_targets_granian_served_loosely_are_refused_400_quietly(
    ours: Running, granian: int
) -> None:
    """An absolute-form target with a port past 65535 or an unclosed IPv6 literal, authority-form:
    granian served some (authority-form with an empty path); ours refuses them all, a client's
    error logged with no traceback."""
    tracebacks = len(ours.log.tracebacks())
    for target in TARGETS_GRANIAN_SERVED:
        data = raw(target, [])
        mine = request(ours.port, data)
        assert (mine.status, mine.header("content-type")) == (400, "application/problem+json")
        assert request(granian, data).status in (200, 400)
    assert len(ours.log.tracebacks()) == tracebacks
