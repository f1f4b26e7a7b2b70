"""Clause 4.1: the usage pages' filters, read from a query string or refused naming the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from termgate.governance.usage_filters import (
    UsageFilterError,
    filter_values,
    read_usage_filters,
)

NOW = datetime(2026, 11, 29, 16, 34, 40, tzinfo=UTC)


def test_clause_4_1_default_is_the_last_week_per_day_up_to_the_next_minute() -> None:
    query = read_usage_filters({}, NOW)
    assert query.until == datetime(2026, 11, 29, 16, 35, tzinfo=UTC)
    assert (query.until - query.since).days == 7
    assert query.granularity == "day"
    assert len(query.periods()) == 8  # the first day is cut, the last one under way


def test_clause_4_1_dates_cover_whole_days_and_short_ranges_count_hours() -> None:
    query = read_usage_filters({"from": "2026-11-28", "to": "2026-11-28"}, NOW)
    assert (query.since, query.until) == (
        datetime(2026, 11, 28, tzinfo=UTC),
        datetime(2026, 11, 29, tzinfo=UTC),
    )
    assert query.granularity == "hour"
    assert query.periods()[0] == "2026-11-28 00"
    assert len(query.periods()) == 24
    assert read_usage_filters(filter_values(query), NOW) == query  # the export link's round trip


def test_clause_4_1_the_portal_s_developer_wins_over_any_developer_filter() -> None:
    query = read_usage_filters({"developer": "someone-else"}, NOW, developer_id="me")
    assert query.developer_id == "me"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "29-11-2026"}, "from"),
        ({"to": "2026-11-29T25:00"}, "to"),
        ({"from": "2026-11-29", "to": "2026-11-28"}, "from"),
        ({"granularity": "week"}, "granularity"),
        ({"from": "2024-01-01", "granularity": "hour"}, "granularity"),
        ({"application": "a\x00b"}, "application"),
    ],
)
def test_clause_4_1_unreadable_filters_are_refused_naming_the_field(
    params: dict[str, str], field: str
) -> None:
    with pytest.raises(UsageFilterError) as refused:
        read_usage_filters(params, NOW)
    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ")
