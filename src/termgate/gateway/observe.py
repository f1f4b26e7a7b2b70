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
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from termgate.core.access_log import AccessLog
from termgate.core.faults import FaultLog
from termgate.core.proxies import ClientAddresses
from termgate.db.models import UsageEvent
from termgate.db.usage_parties import StoredParties
from termgate.gateway.exchange import Exchange
from termgate.gateway.usage_rows import COLUMNS, SPOOLED_WIDTHS, UsageRow, insert_rows
from termgate.gateway.usage_spool import Segment, UsageSpool
from termgate.gateway.usage_thread import WriterThread

log = logging.getLogger(__name__)

NO_TENANT_IDS: tuple[None, None, None] = (None, None, None)
FORWARDED_FOR = "x-forwarded-for"


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
            await self.thread.run(partial(insert_rows, rows=rows, stored=self.stored_parties))
        else:
            await insert_rows(self.engine, rows, self.stored_parties)

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
