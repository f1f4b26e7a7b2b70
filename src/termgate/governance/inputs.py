"""Parsing what people type (console forms, command line) into the governance functions' input;
a mistake is a `PolicyInputError` naming the field."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from termgate.governance.errors import PolicyInputError
from termgate.strict import whole_number

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def parse_moment(text: str, field: str, zone: ZoneInfo | None = None) -> datetime:
    """ISO 8601 with an offset (`2026-03-04T19:00Z`); without one, local time in `zone` where
    given (console forms speak Amsterdam time), else refused."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise PolicyInputError(
            field, f"{text.strip()[:40]!r} is not a date and time like 2026-03-04T20:00Z"
        ) from None
    if moment.tzinfo is None:
        if zone is None:
            raise PolicyInputError(field, "give the time with its UTC offset (e.g. …Z)")
        moment = moment.replace(tzinfo=zone)
    return moment


def parse_minutes(text: str, field: str = "duration") -> int:
    minutes = whole_number(text)
    if minutes is None:
        raise PolicyInputError(field, "the duration is a whole number of minutes")
    return minutes
