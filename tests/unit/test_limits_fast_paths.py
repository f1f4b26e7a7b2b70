"""The limit step's fast paths against the plain arithmetic they stand in for (clauses 3.3 e, 4.4):
the page-size query reading, the whole-number test, and the plan's cached periods."""

from __future__ import annotations

import re
import sys
from urllib.parse import parse_qsl

from hypothesis import given, settings
from hypothesis import strategies as st

from termgate.gateway.traffic import page_size as page_size_module
from termgate.gateway.traffic.page_size import NOT_A_NUMBER, PAGE_SIZE, named_page_size
from termgate.gateway.traffic.periods import PlanPeriods, ZoneCalendar, zone
from termgate.query import QueryError, named_parameters, parse_query, whole_number

# What `whole_number` stood for before it was written without a regular expression.
WHOLE_NUMBER = re.compile(r"[0-9]{1,9}", re.ASCII)


def reference_whole_number(value: str) -> int | None:
    return int(value) if WHOLE_NUMBER.fullmatch(value) else None


def reference_parse(raw: str) -> dict[str, str]:
    """The query read through `parse_qsl` always, with the same refusals."""
    return named_parameters(parse_qsl(raw, keep_blank_values=True, errors="replace"))


def outcome(read: object, raw: str) -> object:
    try:
        return read(raw)  # type: ignore[operator]
    except QueryError as error:
        return (error.name, error.reason)


def test_clause_3_3_e_whole_number_takes_exactly_the_ascii_digits_of_every_character() -> None:
    for code in range(sys.maxunicode + 1):
        character = chr(code)
        assert whole_number(character) == reference_whole_number(character), hex(code)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 +-_.x²١٠\u00a0"), max_size=12))
def test_clause_3_3_e_whole_number_agrees_with_the_pattern(value: str) -> None:
    assert whole_number(value) == reference_whole_number(value)


QUERY_CHARACTERS = st.sampled_from("ab=&=&[]%+2025xX;#é\x00 ")


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=QUERY_CHARACTERS, max_size=24))
def test_clause_3_3_e_query_reading_agrees_with_parse_qsl(raw: str) -> None:
    """The plain-query path (no `%`, `+`, `[` or `]`) reads what `parse_qsl` reads and refuses
    what it refuses, naming the same parameter."""
    assert outcome(parse_query, raw) == outcome(reference_parse, raw)


def test_clause_3_3_e_plain_query_still_refuses_a_repeated_name() -> None:
    assert outcome(parse_query, "pageNumber=1&pageSize=20&pageSize=500") == (
        "pageSize",
        "is given more than once; send it once",
    )
    assert parse_query("pageNumber=1&&pageSize=20&flag") == {
        "pageNumber": "1",
        "pageSize": "20",
        "flag": "",
    }


def reference_page_size(raw: str) -> object:
    """What the limit step read of a query before it remembered queries."""
    try:
        named = reference_parse(raw).get(PAGE_SIZE)
    except QueryError as error:
        return (error.name, error.reason)
    if named is None:
        return None
    size = reference_whole_number(named)
    return (PAGE_SIZE, NOT_A_NUMBER) if size is None else size


PAGE_QUERY_CHARACTERS = st.sampled_from(["pageSize", "=", "&", "1", "0", "[]", "%32", "+", "x"])


@settings(max_examples=1000, deadline=None)
@given(st.lists(PAGE_QUERY_CHARACTERS, max_size=10).map("".join))
def test_clause_3_3_e_a_remembered_query_names_what_reading_it_names(raw: str) -> None:
    expected = reference_page_size(raw)
    assert named_page_size(raw) == expected
    assert named_page_size(raw) == expected  # now from memory


def test_clause_3_3_e_remembered_queries_are_bounded() -> None:
    remembered = page_size_module.NAMED
    for number in range(remembered.capacity + 10):
        assert named_page_size(f"pageNumber={number}&pageSize=20") == 20
        assert len(remembered) <= remembered.capacity
    long_query = "x=" + "1" * remembered.longest + "&pageSize=7"
    assert named_page_size(long_query) == 7
    assert long_query not in remembered


NOON = 1_800_000_000.0
YEAR = 366 * 86_400.0


@settings(max_examples=600, deadline=None)
@given(
    # Chatham's offset is not whole hours; Santiago, Beirut and Havana change at midnight.
    name=st.sampled_from(
        [
            "UTC",
            "Europe/Amsterdam",
            "America/New_York",
            "Pacific/Chatham",
            "America/Santiago",
            "Asia/Beirut",
            "America/Havana",
        ]
    ),
    days=st.sampled_from([None, 1, 7, 30]),
    instants=st.lists(st.floats(NOON - YEAR, NOON + YEAR), min_size=1, max_size=12),
)
def test_clause_4_4_plan_periods_are_the_calendars_at_every_instant(
    name: str, days: int | None, instants: list[float]
) -> None:
    """Asked in any order, forwards and backwards in time, the plan's cached pair is the day
    and quota period a fresh calendar works out for that instant."""
    periods = PlanPeriods(name, days)
    for now in instants:
        current = periods.at(now)
        fresh = ZoneCalendar(zone(name))
        quota = fresh.month(now) if days is None else fresh.rolling(days, now)
        day = fresh.day(now)
        assert (current.day.buckets, current.day.ends) == (day.buckets, day.ends)
        assert (current.quota.buckets, current.quota.ends, current.quota.seconds) == (
            quota.buckets,
            quota.ends,
            quota.seconds,
        )
        assert current.day.starts <= now < current.day.ends
