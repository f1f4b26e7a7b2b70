"""What every detector shares: the window it looks at and the party a finding is about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        return max((self.end - self.start).total_seconds() / 86400, 1 / 1440)

    def evidence(self, **numbers: object) -> dict[str, object]:
        """The evidence members every finding carries, plus the detector's own numbers."""
        return {
            "window_start": self.start.isoformat(),
            "window_end": self.end.isoformat(),
            **numbers,
        }


@dataclass(frozen=True)
class Party:
    """Who a finding is about; the most specific id known, and the ones above it."""

    developer_id: str | None
    application_id: str | None = None
    key_id: str | None = None


def share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0
