"""The maintenance calendar for API users' automation (clause 8): a status document (JSON) and
an iCalendar feed, one VEVENT per window with a UID that stays the same for the occurrence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from icalendar import Calendar, Event

from termgate.governance.maintenance import Window
from termgate.governance.maintenance_calendar import DEFAULT_ZONE

STATUS_HORIZON = timedelta(weeks=4)
FEED_HORIZON = timedelta(weeks=12)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def window_json(window: Window) -> dict[str, Any]:
    return {
        "start": _iso(window.start),
        "end": _iso(window.end),
        "reason": window.reason,
        "kind": window.kind,
        "uid": window.uid,
    }


def status_document(found: list[Window], now: datetime) -> dict[str, Any]:
    """`found`: the windows from `now` on (as `calendar.upcoming` answers)."""
    inside = [window for window in found if window.contains(now)]
    current = max(inside, key=lambda window: window.end) if inside else None
    coming = [window for window in found if window.start > now]
    return {
        "state": "maintenance" if current else "operational",
        "now": _iso(now),
        "current": window_json(current) if current else None,
        "retryAfter": current.seconds_left(now) if current else None,
        "next": [window_json(window) for window in coming if window.start < now + STATUS_HORIZON],
        "timeZone": DEFAULT_ZONE,
        "calendar": "/maintenance.ics",
        "clause": "8",
    }


def ical_feed(found: list[Window], now: datetime, title: str = "API maintenance") -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//termgate//maintenance calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", title)
    stamp = now.astimezone(UTC).replace(microsecond=0)
    for window in found:
        if window.end <= now or window.start >= now + FEED_HORIZON:
            continue
        event = Event()
        event.add("uid", window.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", window.start.astimezone(UTC))
        event.add("dtend", window.end.astimezone(UTC))
        event.add("summary", f"{title}: the API answers 503")
        event.add("description", f"{window.reason}. Requests get 503 with Retry-After.")
        event.add("categories", [window.kind])
        calendar.add_component(event)
    feed: bytes = calendar.to_ical()
    return feed
