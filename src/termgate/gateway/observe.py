"""Step 6, observe: one usage event per request (clause 4.1), buffered and written in batches.

The request path only appends a tuple to a list; a background task swaps the list out and
inserts it in batches. A clean shutdown flushes what is left, so no event is lost; if the
database is unreachable the events wait in memory up to a bound, and the oldest are dropped
(and counted) only beyond it.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from termgate.db.models import UsageEvent
from termgate.gateway.exchange import Exchange

log = logging.getLogger(__name__)

UsageRow = tuple[
    float,
    str,
    str | None,
    str | None,
    str | None,
    str,
    str | None,
    int,
    int | None,
    int,
    int,
    float,
    str | None,
    str | None,
]
TABLE = UsageEvent.__tablename__
COLUMNS = (
    "at",
    "request_id",
    "key_id",
    "application_id",
    "developer_id",
    "method",
    "operation",
    "status",
    "code",
    "bytes_in",
    "bytes_out",
    "latency_ms",
    "end_user_id",
    "data_category",
)
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
SQLITE_INSERT = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
)


@lru_cache(maxsize=8)
def _sqlite_second(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%d %H:%M:%S")


def sqlite_time(at: float) -> str:
    """`datetime.fromtimestamp(at, UTC).strftime(SQLITE_TIME)`, a quarter of its cost.

    The flush formats one timestamp per event; the seconds part repeats, so it is cached, and the
    microseconds are rounded half-even as `fromtimestamp` rounds them.
    """
    fraction, whole = math.modf(at)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        micros -= 1_000_000
        whole += 1.0
    return f"{_sqlite_second(int(whole))}.{micros:06d}"


class UsageRecorder:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        flush_seconds: float,
        batch_size: int,
        buffer_limit: int,
    ) -> None:
        self.engine = engine
        self.flush_seconds = flush_seconds
        self.batch_size = batch_size
        self.buffer_limit = buffer_limit
        self.buffer: list[UsageRow] = []
        self.written = 0
        self.dropped = 0
        self._lock = asyncio.Lock()

    def record(self, exchange: Exchange, finished: float) -> None:
        grant, operation, bearer = exchange.grant, exchange.operation, exchange.bearer
        self.buffer.append(
            (
                exchange.started_at,
                exchange.request_id,
                grant.key_id if grant else None,
                grant.application_id if grant else None,
                grant.developer_id if grant else None,
                exchange.method,
                operation.template if operation else None,
                exchange.status,
                exchange.code,
                exchange.bytes_in,
                exchange.bytes_out,
                (finished - exchange.started) * 1000.0,
                bearer.end_user_id if bearer else None,
                operation.data_category if operation else None,
            )
        )

    async def flush(self) -> int:
        """Write everything buffered so far; returns the number of events written."""
        async with self._lock:
            pending, self.buffer = self.buffer, []
            written = 0
            try:
                for start in range(0, len(pending), self.batch_size):
                    await self._insert(pending[start : start + self.batch_size])
                    written = start + min(self.batch_size, len(pending) - start)
            except Exception:
                self._keep(pending[written:])
                raise
            finally:
                self.written += written
            return written

    async def _insert(self, rows: list[UsageRow]) -> None:
        # The driver's own bulk path: COPY on PostgreSQL, executemany on SQLite. The ORM's
        # insert costs more CPU per event than the whole request path it observes.
        async with self.engine.begin() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            if self.engine.dialect.name == "postgresql":
                records: list[tuple[Any, ...]] = [
                    (datetime.fromtimestamp(row[0], UTC), *row[1:]) for row in rows
                ]
                await driver.copy_records_to_table(TABLE, records=records, columns=COLUMNS)
            else:
                # SQLAlchemy's SQLite storage format for UTC timestamps.
                records = [(sqlite_time(row[0]), *row[1:]) for row in rows]
                await driver.executemany(SQLITE_INSERT, records)

    def _keep(self, unwritten: list[UsageRow]) -> None:
        merged = unwritten + self.buffer
        overflow = len(merged) - self.buffer_limit
        if overflow > 0:
            self.dropped += overflow
            log.error("usage buffer full: dropped %d oldest events", overflow)
            merged = merged[overflow:]
        self.buffer = merged

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            if not self.buffer:
                continue
            try:
                await self.flush()
            except Exception:
                log.exception("writing usage events failed; %d kept for retry", len(self.buffer))
