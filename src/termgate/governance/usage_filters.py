"""The usage pages' filters as typed in a query string, read into a `UsageQuery` or refused.

`from` and `to` are UTC dates (2026-11-29, `to` then counts that whole day) or minutes
(2026-11-29T16:00, as a `datetime-local` field sends them); `granularity` is `hour` or `day`
(default: hours for a range of two days or less); `application`, `operation` and, in the
console, `developer` narrow the events. A refusal names the field at fault and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import cast

from termgate.core.errors import RegistryError
from termgate.governance.analytics import STEPS, Granularity, UsageQuery, period_start

DEFAULT_RANGE = timedelta(days=7)
HOURLY_UP_TO = timedelta(days=2)  # the default period switches from hours to days beyond it
MAX_PERIODS = 800  # 33 days of hours or two years of days: a chart one can still read
FIELD_LENGTH = 200


class UsageFilterError(RegistryError):
    """A filter that cannot be read; `field` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


def _moment(field: str, text: str, end: bool) -> datetime:
    try:
        if len(text) == len("2026-11-29"):
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
            return day + timedelta(days=1) if end else day
        return datetime.strptime(text, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
    except ValueError:
        raise UsageFilterError(
            field, f"{text[:40]!r} is not a UTC date (2026-11-29) or time (2026-11-29T16:00)"
        ) from None


def _optional(params: Mapping[str, str], field: str) -> str | None:
    value = params.get(field, "").strip()
    if not value:
        return None
    if len(value) > FIELD_LENGTH or not value.isprintable():
        raise UsageFilterError(field, "not a value any usage event can have")
    return value


def read_usage_filters(
    params: Mapping[str, str], now: datetime, developer_id: str | None = None
) -> UsageQuery:
    """The query the filters ask for; `developer_id` (the portal's signed-in developer)
    overrides any `developer` filter."""
    to_text, from_text = _optional(params, "to"), _optional(params, "from")
    next_minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    until = _moment("to", to_text, end=True) if to_text else next_minute
    since = _moment("from", from_text, end=False) if from_text else until - DEFAULT_RANGE
    if since >= until:
        raise UsageFilterError("from", "must be before `to`")
    granularity_text = _optional(params, "granularity")
    if granularity_text is None:
        granularity_text = "hour" if until - since <= HOURLY_UP_TO else "day"
    if granularity_text not in STEPS:
        raise UsageFilterError("granularity", "must be hour or day")
    granularity = cast(Granularity, granularity_text)
    periods = (until - period_start(since, granularity)) / STEPS[granularity]
    if periods > MAX_PERIODS:
        raise UsageFilterError(
            "granularity",
            f"the range holds more than {MAX_PERIODS} {granularity}s; shorten it or count per day",
        )
    return UsageQuery(
        since,
        until,
        granularity,
        developer_id=developer_id or _optional(params, "developer"),
        application_id=_optional(params, "application"),
        operation=_optional(params, "operation"),
    )


def filter_values(query: UsageQuery) -> dict[str, str]:
    """The query as the form's fields show it (and as links carry it: the CSV export)."""
    values = {
        "from": query.since.strftime("%Y-%m-%dT%H:%M"),
        "to": query.until.strftime("%Y-%m-%dT%H:%M"),
        "granularity": query.granularity,
    }
    for field, value in (
        ("developer", query.developer_id),
        ("application", query.application_id),
        ("operation", query.operation),
    ):
        if value is not None:
            values[field] = value
    return values
