"""termgate's HTTP server in this process (a uvloop thread) and granian in a subprocess, both
serving the test application, once per module."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import uvloop

from termgate.http_server import Limits, Server
from termgate.http_server.serve import listening_socket
from tests.conftest import free_port
from tests.http_server.apps import App
from tests.support.processes import spawn, stop, wait_until_answering

TEST_LIMITS = Limits(head_timeout=0.5, keepalive_timeout=1.0, max_body=1 << 20)


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def tracebacks(self) -> list[logging.LogRecord]:
        return [record for record in self.records if record.exc_info]


@dataclass
class Running:
    port: int
    app: App
    server: Server
    loop: asyncio.AbstractEventLoop
    log: Records = field(default_factory=Records)


def serve_in_thread(
    app: App, limits: Limits, tls: object = None
) -> tuple[Running, threading.Thread]:
    loop = uvloop.new_event_loop()
    sock = listening_socket("127.0.0.1", 0, reuse_port=False)
    server = Server(app.__rsgi__, limits, tls)  # type: ignore[arg-type]
    running = Running(sock.getsockname()[1], app, server, loop)
    started = threading.Event()

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start(sock))
        started.set()
        loop.run_forever()
        loop.run_until_complete(server.stop())
        loop.close()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    assert started.wait(10)
    return running, thread


@pytest.fixture(scope="module")
def ours() -> Iterator[Running]:
    running, thread = serve_in_thread(App(), TEST_LIMITS)
    logger = logging.getLogger("termgate.http")
    logger.addHandler(running.log)
    try:
        yield running
    finally:
        logger.removeHandler(running.log)
        running.loop.call_soon_threadsafe(running.loop.stop)
        thread.join(10)


@pytest.fixture(scope="module")
def granian() -> Iterator[int]:
    port = free_port()
    process = spawn(
        ["-m", "granian", "--interface", "rsgi", "--loop", "uvloop", "--port", str(port),
         "--no-ws", "tests.http_server.apps:app"]
    )  # fmt: skip
    try:
        wait_until_answering(f"tcp://127.0.0.1:{port}", process)
        yield port
    finally:
        stop(process)
