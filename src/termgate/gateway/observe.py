"""Step 6, observe: one usage event per request (clause 4.1), buffered and written in batches.

The request path only appends a tuple to a list; a background task swaps the list out and
inserts it in batches. A clean shutdown flushes what is left, so no event is lost; if the
database is unreachable the events wait in memory up to a bound, and the oldest are dropped
(and counted) only beyond it. With a spool (see usage_spool.py) the same task appends the new
events to a local file every `spool_seconds`, so a hard kill loses only the events of the last
tick; the spool of a killed process is replayed at the next start, skipping events already in
the database (by request id, within the spool's time range on the `at` index).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from termgate.core.access_log import AccessLog
from termgate.core.faults import FaultLog
from termgate.core.proxies import ClientAddresses
from termgate.db.models import UsageEvent
from termgate.db.usage_daily import add_summaries
from termgate.db.usage_hourly import HourlySums, add_sqlite_hourly
from termgate.db.usage_parties import (
    DailyParties,
    StoredParties,
    add_parties,
    add_sqlite_parties,
)
from termgate.gateway.exchange import Exchange
from termgate.gateway.usage_spool import Segment, UsageSpool
from termgate.gateway.usage_thread import WriterThread

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
    str | None,
    str | None,
    str | None,
    str | None,
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
    "client_request_id",
    "debtor_id",
    "company_id",
    "employee_id",
    "client_ip",
    "scope",
)
# Spools written before the detection columns existed hold rows of this many columns; they are
# replayed with those columns empty.
FIRST_COLUMNS = COLUMNS.index("debtor_id")
SPOOLED_WIDTHS = frozenset({FIRST_COLUMNS, len(COLUMNS)})
NO_TENANT_IDS: tuple[None, None, None] = (None, None, None)
FORWARDED_FOR = "x-forwarded-for"
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


def sqlite_rows(
    rows: Iterable[UsageRow], sums: HourlySums, parties: DailyParties
) -> Iterator[tuple[Any, ...]]:
    """The rows as SQLite stores them (SQLAlchemy's text format for UTC timestamps), each added
    to `sums` and `parties` as it goes by."""
    add, meet = sums.add, parties.add
    for row in rows:
        add(row)
        meet(row)
        yield (sqlite_time(row[0]), *row[1:])


class UsageRecorder:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        flush_seconds: float,
        batch_size: int,
        buffer_limit: int,
        spool: UsageSpool | None = None,
        spool_seconds: float = 0.01,
        access: AccessLog | None = None,
        clients: ClientAddresses | None = None,
        clock_offset: float = 0.0,
        writer_thread: bool = False,
    ) -> None:
        self.engine = engine
        # PostgreSQL's batches on a thread of their own (usage_thread.py); the server asks for
        # it. SQLite's driver has its thread already.
        self.thread = (
            WriterThread(engine.url.render_as_string(hide_password=False))
            if writer_thread and engine.dialect.name == "postgresql"
            else None
        )
        # Events carry termgate's clock (`clock_offset_seconds`), as quotas and detectors read it.
        self.clock_offset = clock_offset
        self.access = access
        # Who sent each request: the peer, or what a trusted proxy forwarded for.
        self.clients = clients or ClientAddresses(access.trusted if access is not None else None)
        if access is not None:  # without an access log the request path is exactly as before
            self.record = self._record_and_log  # type: ignore[method-assign]
        self.flush_seconds = flush_seconds
        self.batch_size = batch_size
        self.buffer_limit = buffer_limit
        self.buffer: list[UsageRow] = []
        self.written = 0
        self.dropped = 0
        self.replayed = 0
        self.spool = spool
        self.spool_seconds = spool_seconds
        self._spooled = 0  # how many of the buffer's first events are in the spool
        self._spool_failing = False
        self._lock = asyncio.Lock()
        self.stored_parties = StoredParties()
        self.faults = FaultLog(log, "writing usage events")

    def record(self, exchange: Exchange, finished: float) -> None:
        grant, operation, bearer = exchange.grant, exchange.operation, exchange.bearer
        ids = exchange.tenant_ids  # set with the operation, by identify
        debtor_id, company_id, employee_id = (
            operation.tenancy.usage_ids(ids) if ids and operation is not None else NO_TENANT_IDS
        )
        clients = self.clients
        self.buffer.append(
            (
                exchange.started_at + self.clock_offset,
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
                exchange.client_request_id,
                debtor_id,
                company_id,
                employee_id,
                # as `_client` and `Operation.scope_used`, inline: fewer calls per request
                clients.of(exchange.peer, exchange.headers.get(FORWARDED_FOR))
                if clients.forwarded
                else clients.peer(exchange.peer),
                None
                if bearer is None or operation is None
                else sole
                if (sole := operation.sole_scope) in bearer.granted
                else operation.scope_used(bearer.granted),
            )
        )

    def _record_and_log(self, exchange: Exchange, finished: float) -> None:
        UsageRecorder.record(self, exchange, finished)
        assert self.access is not None
        grant = exchange.grant
        self.access.line(
            plane="gateway",
            method=exchange.method,
            path=exchange.path,
            query=exchange.query,
            status=exchange.status,
            sent=exchange.bytes_out,
            duration_ms=(finished - exchange.started) * 1000.0,
            client=self._client(exchange) or "",  # as the event has it (remembered: no cost)
            request_id=exchange.request_id,
            application_id=grant.application_id if grant else None,
            key_id=grant.key_id if grant else None,
        )

    def _client(self, exchange: Exchange) -> str | None:
        clients = self.clients
        forwarded = exchange.headers.get(FORWARDED_FOR) if clients.forwarded else None
        return clients.of(exchange.peer, forwarded)

    def spool_pending(self) -> None:
        """Append the events recorded since the last tick to the spool (one write)."""
        spool, buffer, spooled = self.spool, self.buffer, self._spooled
        if spool is None or len(buffer) <= spooled:
            return
        try:
            spool.append(buffer[spooled:])
        except OSError:
            if not self._spool_failing:  # once, not every tick
                log.exception("writing the usage spool failed; the events stay in memory")
            self._spool_failing = True
            return
        self._spool_failing = False
        self._spooled = len(buffer)

    async def flush(self) -> int:
        """Write everything buffered so far; returns the number of events written."""
        async with self._lock:
            self.spool_pending()
            pending, self.buffer, self._spooled = self.buffer, [], 0
            segment = self.spool.rotate() if self.spool is not None else None
            written = 0
            try:
                for start in range(0, len(pending), self.batch_size):
                    await self._insert(pending[start : start + self.batch_size])
                    written = start + min(self.batch_size, len(pending) - start)
            except Exception:
                self._keep(pending[written:], segment)
                raise
            finally:
                self.written += written
            if segment is not None:
                UsageSpool.retire(segment)
            return written

    async def _insert(self, rows: list[UsageRow]) -> None:
        if self.thread is not None:
            await self.thread.run(partial(self._insert_with, rows=rows))
        else:
            await self._insert_with(self.engine, rows)

    async def _insert_with(self, engine: AsyncEngine, rows: list[UsageRow]) -> None:
        # The driver's own bulk path: COPY on PostgreSQL, executemany on SQLite. The ORM's
        # insert costs more CPU per event than the whole request path it observes. The hourly
        # and daily summaries and the daily parties are added to in the same transaction: they
        # never disagree with the events.
        stored = self.stored_parties
        async with engine.begin() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            dialect = engine.dialect.name
            if dialect == "postgresql":
                records: list[tuple[Any, ...]] = [
                    (datetime.fromtimestamp(row[0], UTC), *row[1:]) for row in rows
                ]
                parties = DailyParties().add_all(rows)
                # SQLAlchemy begins asyncpg's transaction at its own first statement, and sends
                # none here: without this each statement would commit on its own, and a batch
                # that failed half-way would be retried over its committed events.
                async with driver.transaction():
                    await driver.copy_records_to_table(TABLE, records=records, columns=COLUMNS)
                    await add_summaries(driver, rows)
                    await add_parties(driver, parties, stored)
            else:
                # Generators: the driver's thread formats the rows and sums the hourly summary
                # as it inserts them, then sorts and formats the sums and the parties not stored
                # yet: none of it on the serving event loop (which stopped for ~1 µs per event
                # for the sums, and ~1.4 for a busy batch's parties).
                sums, parties = HourlySums(), DailyParties()
                await driver.executemany(SQLITE_INSERT, sqlite_rows(rows, sums, parties))
                await add_sqlite_hourly(driver, sums)  # its triggers add to the daily one
                await add_sqlite_parties(driver, parties, stored)
        stored.remember(parties)

    def _keep(self, unwritten: list[UsageRow], segment: Segment | None) -> None:
        spooled = self._spooled
        if segment is not None:
            # The unwritten events move to the current segment; the old one then goes, so the
            # part of its batch that did reach the database is not replayed.
            try:
                if self.spool is not None:
                    self.spool.append(unwritten)
                spooled += len(unwritten)
                UsageSpool.retire(segment)
            except OSError:
                log.exception("moving unwritten events in the usage spool failed")
                UsageSpool.release(segment)  # kept on disk: replay skips what was written
        merged = unwritten + self.buffer
        overflow = len(merged) - self.buffer_limit
        if overflow > 0:
            self.dropped += overflow
            log.error("usage buffer full: dropped %d oldest events", overflow)
            merged = merged[overflow:]
            spooled = max(0, spooled - overflow)
        self.buffer = merged
        self._spooled = min(spooled, len(merged))

    async def run_forever(self) -> None:
        tick = self.spool_seconds if self.spool is not None else self.flush_seconds
        last_flush = time.monotonic()
        while True:
            await asyncio.sleep(tick)
            self.spool_pending()
            now = time.monotonic()
            if now - last_flush < self.flush_seconds:
                continue
            last_flush = now
            if not self.buffer:
                continue
            try:
                await self.flush()
            except Exception as error:
                self.faults.failed(error, f"{len(self.buffer)} kept for retry")
            else:
                self.faults.succeeded()

    def close(self) -> None:
        """After the last flush of a clean stop: the spool holds nothing the database lacks."""
        if self.spool is not None and not self.buffer:
            self.spool.close()

    def stop_thread(self) -> None:
        """At a stop, after the last flush (blocking: call it off the loop)."""
        if self.thread is not None:
            self.thread.stop()

    async def replay(self) -> int:
        """Write the events of killed processes' spools that the database does not have yet."""
        if self.spool is None:
            return 0
        replayed = 0
        for segment in self.spool.orphans():
            try:
                rows = [
                    (*row, *(None,) * (len(COLUMNS) - len(row)))
                    for row in UsageSpool.read(segment)
                    if len(row) in SPOOLED_WIDTHS
                ]
                missing = await self._missing(rows)
                for start in range(0, len(missing), self.batch_size):
                    await self._insert(missing[start : start + self.batch_size])
            except Exception:
                UsageSpool.release(segment)
                log.exception("replaying %s failed; kept for the next start", segment.path)
                continue
            UsageSpool.retire(segment)
            replayed += len(missing)
        if replayed:
            log.warning("replayed %d usage events from the spool of a stopped process", replayed)
        self.replayed += replayed
        return replayed

    async def _missing(self, rows: Sequence[tuple[Any, ...]]) -> list[UsageRow]:
        """The rows whose request id is not in the database within the rows' time range."""
        if not rows:
            return []
        earliest = datetime.fromtimestamp(min(row[0] for row in rows) - 1.0, UTC)
        latest = datetime.fromtimestamp(max(row[0] for row in rows) + 1.0, UTC)
        ids = list({row[1] for row in rows})
        present: set[str] = set()
        async with self.engine.connect() as connection:
            for start in range(0, len(ids), 500):
                query = select(UsageEvent.request_id).where(
                    UsageEvent.at.between(earliest, latest),
                    UsageEvent.request_id.in_(ids[start : start + 500]),
                )
                present.update(await connection.scalars(query))
        missing: dict[str, UsageRow] = {}
        for row in rows:
            if row[1] not in present:
                missing.setdefault(row[1], row)
        return list(missing.values())
