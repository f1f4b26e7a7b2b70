"""What a limiter answers for one request, and the GCRA arithmetic both backends share.

GCRA (the generic cell rate algorithm): a limit of N per minute is one stored instant per
counter, the theoretical arrival time (TAT). A request is admitted if pushing the TAT on by the
emission interval T = 60/N leaves it at most a minute ahead of now; the allowance is then N at
once, refilled at one per T. Exact, one key per limit, no window edges to burst across.
"""

from __future__ import annotations

MINUTE = 60.0
EPSILON = 1e-9

# Which limit refused the request (0: none).
ADMITTED = 0
APP_RATE = 1
DEVELOPER_RATE = 2
QUOTA = 3
BANDWIDTH = 4
UNAVAILABLE = 5


class Verdict:
    """The outcome, the wait before a retry (seconds) and each counter's state for the headers.

    For a rate: what is left and the seconds until it is whole again; for the quota and the
    bandwidth: what is used so far (the limits and resets are the plan's and the calendar's).
    """

    __slots__ = (
        "app_left",
        "app_reset",
        "bandwidth_used",
        "developer_left",
        "developer_reset",
        "quota_used",
        "refused",
        "wait",
    )

    def __init__(self) -> None:
        self.refused = ADMITTED
        self.wait = 0.0
        self.app_left = 0
        self.app_reset = 0.0
        self.developer_left = 0
        self.developer_reset = 0.0
        self.quota_used = 0
        self.bandwidth_used = 0


def gcra(tat: float, now: float, interval: float) -> tuple[bool, float, int, float]:
    """(admitted, the new TAT (or the old one if refused), units left, seconds to whole again or
    to wait when refused)."""
    base = tat if tat > now else now
    pushed = base + interval
    ahead = pushed - now
    if ahead - MINUTE > EPSILON:
        return False, base, 0, ahead - MINUTE
    return True, pushed, int((MINUTE - ahead) / interval + EPSILON), ahead


def rate_state(tat: float, now: float, interval: float) -> tuple[int, float]:
    """Units left and seconds to whole again, without spending (for headers of refusals)."""
    ahead = tat - now if tat > now else 0.0
    return int((MINUTE - ahead) / interval + EPSILON), ahead
