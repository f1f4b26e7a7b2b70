"""`serve`'s detection passes (clause 4.1) in a thread of their own, with an event loop and a
database engine of their own.

A pass reads a window of usage events (a day, a week, 90 days) and turns the rows it gets back
into Python objects in one go: at scale, seconds of the interpreter's time. On the serving event
loop those seconds would hold every request behind them. In a thread they share the interpreter
with the serving loop in slices of its switch interval (5 ms), as the SQLite driver's threads do.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from termgate.db.engine import create_engine, session_factory
from termgate.monitoring.policy import DetectorPolicy
from termgate.monitoring.runner import detect_forever
from termgate.settings import Settings

log = logging.getLogger(__name__)


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

    def _run(self) -> None:
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
