"""The gateway as `python -m termgate.server` runs it, with every bytecode instruction counted.

    TERMGATE_TRACE_FILE=instructions.json python bench/traced_gateway.py

A count of work that does not depend on the machine's speed or its neighbours: the bytecode
instructions each thread runs (`sys.settrace`, `f_trace_opcodes`), by function, over
`TERMGATE_TRACE_REQUESTS` requests (default 2,000) after `TERMGATE_TRACE_WARMUP` (default 500)
and after the check of the API's document that the server runs beside its first requests (a
thread's start-up work, not the requests'). A request is a call of the server's `__rsgi__`. When
the window is over the counts go to `TERMGATE_TRACE_FILE` as JSON and tracing stops. C code (the
event loop, the HTTP parsers, SQLite, the kernel) is not counted: this measures the
interpreter's share only, and runs the gateway about 30 times slower while it counts.
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
import threading
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

from termgate.core import logs
from termgate.server import TermgateServer, run_server
from termgate.settings import get_settings

TRACE_FILE = "TERMGATE_TRACE_FILE"
STDLIB = sysconfig.get_paths()["stdlib"]
Tracer = Any  # sys.settrace's callable: (frame, event, arg) -> Tracer | None


def module_of(filename: str) -> str:
    """`termgate/gateway/observe.py`, `asyncio`, `sqlalchemy`: where a line's code lives."""
    if (at := filename.rfind("/termgate/")) >= 0:
        return filename[at + 1 :]
    if (at := filename.rfind("site-packages/")) >= 0:
        return filename[at + len("site-packages/") :].split("/", 1)[0]
    if filename.startswith(STDLIB):
        return filename[len(STDLIB) + 1 :].split("/", 1)[0]
    return filename


class InstructionCounter:
    """Bytecode instructions per (thread, module:function) over the window's requests."""

    def __init__(self, target: Path, warmup: int, requests: int, ready: Callable[[], bool]) -> None:
        self.target, self.warmup, self.requests, self.ready = target, warmup, requests, ready
        self.seen = 0
        self.started: int | None = None  # the request that began the window
        self.opcodes: Counter[tuple[str, str]] = Counter()
        self.calls: Counter[str] = Counter()
        self.places: dict[CodeType, str] = {}
        self.request_code = TermgateServer.__rsgi__.__code__
        self.done = False

    def on_call(self, frame: FrameType, event: str, arg: object) -> Tracer | None:
        if self.done:
            return None
        code = frame.f_code
        if code is self.request_code:
            self._request()
        self.calls[threading.current_thread().name] += 1
        frame.f_trace_opcodes = True
        return self.on_line

    def on_line(self, frame: FrameType, event: str, arg: object) -> Tracer | None:
        if self.done:
            return None
        if event == "opcode":
            code = frame.f_code
            where = self.places.get(code)
            if where is None:
                where = self.places[code] = f"{module_of(code.co_filename)}:{code.co_qualname}"
            self.opcodes[threading.current_thread().name, where] += 1
        return self.on_line

    def _request(self) -> None:
        self.seen += 1
        if self.started is None:
            if self.seen >= self.warmup and self.ready():
                self.started = self.seen
                self.opcodes.clear()
                self.calls.clear()
        elif self.seen == self.started + self.requests:
            self.done = True
            sys.settrace(None)
            threading.settrace(None)  # type: ignore[arg-type]
            self._write()

    def _write(self) -> None:
        threads: dict[str, dict[str, int]] = {}
        for (thread, where), count in self.opcodes.most_common():
            threads.setdefault(thread, {})[where] = count
        report = {"requests": self.requests, "opcodes": threads, "calls": dict(self.calls)}
        self.target.write_text(json.dumps(report, indent=1))


def document_checked(server: TermgateServer) -> bool:
    checks = [task for task in server._tasks if task.get_coro().__name__ == "_check_document"]
    return bool(checks) and all(task.done() for task in checks)


def create_app() -> TermgateServer:
    """Granian's factory, as `termgate.server.create_app`, with the counter set on this thread
    (the serving loop's) and on every thread started after it."""
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format)
    server = TermgateServer(settings)
    counter = InstructionCounter(
        Path(os.environ[TRACE_FILE]),
        int(os.environ.get("TERMGATE_TRACE_WARMUP", "500")),
        int(os.environ.get("TERMGATE_TRACE_REQUESTS", "2000")),
        partial(document_checked, server),
    )
    threading.settrace(counter.on_call)
    sys.settrace(counter.on_call)
    return server


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    run_server(get_settings(), app="traced_gateway:create_app")
