"""Rate-limited logging of a background task's repeated faults (a database or Redis that is down).

A task that retries every half second would otherwise write a traceback per attempt: 37 in five
seconds of a database outage. `FaultLog` writes one line when a fault begins (or changes kind),
then at most one summary with the count every `every` seconds, and one line when the task works
again. Expected faults (the network, the database, Redis) carry no traceback; anything else is a
bug and keeps its traceback, once per kind.
"""

from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

EXPECTED: tuple[type[BaseException], ...] = (OSError, TimeoutError, SQLAlchemyError, RedisError)
SUMMARY_SECONDS = 60.0


def describe(error: BaseException) -> str:
    """The fault in one line: its type and the driver's first line, without SQL or parameters."""
    original = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    words = str(original).splitlines()[0].strip() if str(original) else ""
    name = type(original).__name__
    return f"{name}: {words}" if words else name


class FaultLog:
    """The log of one background activity's faults (see the module's description)."""

    def __init__(
        self,
        logger: logging.Logger,
        activity: str,
        every: float = SUMMARY_SECONDS,
        quiet_reset: bool = False,
    ) -> None:
        self.logger = logger
        self.activity = activity
        self.every = every
        # For faults met by requests, which never hear that the activity works again: a fault
        # after `every` seconds without one starts a new episode (its own first line).
        self.quiet_reset = quiet_reset
        self.last_failed = 0.0
        self.failures = 0  # since the activity last worked
        self.unreported = 0
        self.kind = ""
        self.since = 0.0
        self.reported_at = 0.0

    def failed(self, error: BaseException, consequence: str = "") -> None:
        now = time.monotonic()
        kind = describe(error).partition(":")[0]
        suffix = f"; {consequence}" if consequence else ""
        if self.quiet_reset and self.failures and now - self.last_failed >= self.every:
            self.failures, self.unreported, self.kind = 0, 0, ""
        self.last_failed = now
        self.failures += 1
        if self.failures == 1 or kind != self.kind:
            if self.failures == 1:
                self.since = now
            self.kind, self.reported_at, self.unreported = kind, now, 0
            self.logger.error(
                "%s failed: %s%s",
                self.activity,
                describe(error),
                suffix,
                exc_info=None if isinstance(error, EXPECTED) else error,
            )
            return
        self.unreported += 1
        if now - self.reported_at >= self.every:
            self.logger.error(
                "%s still failing: %d more times in %.0f s, last %s%s",
                self.activity,
                self.unreported,
                now - self.reported_at,
                describe(error),
                suffix,
            )
            self.reported_at, self.unreported = now, 0

    def succeeded(self) -> None:
        if self.failures:
            self.logger.warning(
                "%s works again after %d failures in %.1f s",
                self.activity,
                self.failures,
                time.monotonic() - self.since,
            )
            self.failures, self.unreported, self.kind = 0, 0, ""
