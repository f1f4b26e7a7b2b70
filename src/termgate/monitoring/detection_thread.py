"""`serve`'s detection passes (clause 4.1) in a thread of their own, with an event loop and a
database engine of their own.

A pass reads a window of usage events (a day, a week, 90 days) and turns the rows it gets back
into Python objects in one go: at scale, seconds of the interpreter's time. On the serving event
loop those seconds would hold every request behind them. In a thread they share the interpreter
with the serving loop in slices of its switch interval (5 ms), as the SQLite driver's threads do.

The thread also runs at a lower scheduling priority than the serving loop (`NICENESS`), and so do
the SQLite driver's threads it starts (Linux: a thread's nice value, inherited by the threads it
starts). A pass has its interval, 30 s, to finish; a request has milliseconds. On a core the
serving loop shares, a pass then takes the CPU the loop leaves, not half of it: with a pass every
5 s the chain's p99 was 6.4-6.9 ms against 8.0-8.1 (docs/performance.md, "Detection passes at a
lower priority").
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading

from termgate.db.engine import create_engine, session_factory
from termgate.monitoring.policy import DetectorPolicy
from termgate.monitoring.runner import detect_forever
from termgate.settings import Settings

log = logging.getLogger(__name__)
NICENESS = 10
LEAST_PRIORITY = 19  # the highest nice value


def lower_this_threads_priority() -> None:
    """Make the calling thread NICENESS nicer (Linux: this thread only); where a thread's
    priority cannot be set, the passes run as before."""
    try:
        thread = threading.get_native_id()
        nice = min(os.getpriority(os.PRIO_PROCESS, thread) + NICENESS, LEAST_PRIORITY)
        os.setpriority(os.PRIO_PROCESS, thread, nice)
    except (AttributeError, OSError) as error:
        log.warning("the detection passes run at the serving loop's priority: %s", error)


class DetectionThread:
    """`detect_forever` on its own loop and engine; `stop` cancels it and waits for the thread."""

    def __init__(self, settings: Settings, policies: dict[str, DetectorPolicy]) -> None:
        self._settings = settings
        self._policies = policies
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._running = threading.Event()
        self._thread = threading.Thread(target=self._run, name="termgate-detection", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._running.wait(10.0)

    def stop(self, timeout: float = 10.0) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the detection thread did not stop within %.0f s", timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def native_id(self) -> int | None:
        return self._thread.native_id

    def _run(self) -> None:
        lower_this_threads_priority()  # before the engine starts the driver's threads
        try:
            asyncio.run(self._detect())
        except Exception:  # detect_forever logs a pass's failures; this is the engine's
            log.exception("the detection thread ended")

    async def _detect(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._running.set()  # before anything can fail: `start` does not wait out its timeout
        engine = create_engine(self._settings.database_url)
        try:
            await detect_forever(session_factory(engine), self._settings, self._policies)
        except asyncio.CancelledError:
            pass
        finally:
            await engine.dispose()
