"""The usage writer's PostgreSQL work on a thread of its own (clause 4.1), off the serving loop.

On SQLite the driver (aiosqlite) already runs every statement on its own thread. asyncpg runs
on the event loop that awaits it, so a batch's preparation (its timestamps, its hourly and daily
sums, its parties) and asyncpg's encoding of its COPY and its arrays ran on the serving loop:
about 10 µs per event (`bench/usage_flush_loop.py --database postgresql`), a loop stopped for
~80 ms each second at 8,000 requests a second. Here they run on a thread with an event loop and
an engine of its own (one connection, opened at the first batch). The serving loop only waits
for the batch's future; the thread holds the GIL while it computes, so the two share the CPU in
the interpreter's switch interval (5 ms) rather than in whole batches.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from termgate.db.engine import create_engine

log = logging.getLogger(__name__)
STOP_SECONDS = 10.0

Work = Callable[[AsyncEngine], Awaitable[None]]


class WriterThread:
    """A thread running an event loop and an engine on `url`; `run` hands it one piece of work
    at a time and awaits it from the caller's loop."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._engine: AsyncEngine | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _start(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=loop.run_forever, name="termgate-usage-writer", daemon=True
        )
        thread.start()
        self._loop, self._thread = loop, thread
        return loop

    async def run(self, work: Work) -> None:
        """Run `work` with the thread's engine; its exception is raised here. Cancelling the
        caller cancels the work (its transaction rolls back, as it would on the caller's loop)."""
        loop = self._loop or self._start()
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._on_thread(work), loop))

    async def _on_thread(self, work: Work) -> None:
        if self._engine is None:
            # One connection: batches come one at a time (the recorder's lock).
            self._engine = create_engine(self._url, pool_size=1, max_overflow=0)
        await work(self._engine)

    def stop(self) -> None:
        """Close the engine's connection and end the thread (blocking: call it off the loop)."""
        loop, thread, engine = self._loop, self._thread, self._engine
        self._loop = self._thread = self._engine = None
        if loop is None or thread is None:
            return
        if engine is not None:
            disposed = asyncio.run_coroutine_threadsafe(engine.dispose(), loop)
            try:
                disposed.result(timeout=STOP_SECONDS)
            except Exception:  # the database gone at shutdown: the thread still ends
                log.warning("closing the usage writer's connection failed", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=STOP_SECONDS)
        loop.close()
