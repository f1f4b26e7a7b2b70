"""Listening, workers and a graceful stop.

`run` binds the port, then serves in this process (one worker) or in N worker processes, each
with its own socket on the port (`SO_REUSEPORT`: the kernel spreads new connections over them),
restarting a worker that dies. SIGINT or SIGTERM stops accepting, lets the answers in hand finish
(`shutdown_timeout`), then calls the application's `__rsgi_del__` (where termgate flushes its
usage events).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import multiprocessing
import signal
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import uvloop

from termgate.http_server.connection import Connection
from termgate.http_server.request import Request

log = logging.getLogger("termgate.http")
Handler = Callable[[Request, Request], Awaitable[None]]
BACKLOG = 2048
QUICK_DEATH_SECONDS = 5.0  # a worker dying this soon after its start is not restarted


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request and one connection may take (each past it is refused, not served)."""

    max_url: int = 8 * 1024  # request target, bytes (→ 414)
    max_head: int = 64 * 1024  # header names and values, bytes (→ 431)
    max_headers: int = 100  # header lines (→ 431)
    max_body: int = 16 * 1024 * 1024  # a body read whole, bytes (→ 413); streamed bodies: none
    body_buffer: int = 1 << 20  # bytes buffered ahead of the application before reading pauses
    max_pipelined: int = 16  # requests waiting behind the one answered before reading pauses
    head_timeout: float = 10.0  # seconds for a request head to arrive (→ 408)
    keepalive_timeout: float = 60.0  # seconds an idle connection is kept
    shutdown_timeout: float = 30.0  # seconds the answers in hand get at a stop


class Server:
    """One worker's listener: its connections, the deadline sweeper, the graceful stop."""

    def __init__(self, app: Handler, limits: Limits, tls: ssl.SSLContext | None = None) -> None:
        self.app = app
        self.limits = limits
        self.tls = tls
        self.scheme = "https" if tls is not None else "http"
        self.connections: set[Connection] = set()
        self._listener: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._all_closed: asyncio.Future[None] | None = None  # set while stopping

    def forget(self, connection: Connection) -> None:
        connections = self.connections
        connections.discard(connection)
        if not connections and self._all_closed is not None and not self._all_closed.done():
            self._all_closed.set_result(None)

    async def start(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        self._listener = await loop.create_server(
            lambda: Connection(self), sock=sock, ssl=self.tls, backlog=BACKLOG
        )
        self._sweeper = loop.create_task(self._sweep())

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for connection in [c for c in self.connections if 0.0 < c.deadline < now]:
                connection.expire()

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self._all_closed = asyncio.get_running_loop().create_future()
        for connection in list(self.connections):
            connection.stop()
        if self.connections:
            try:
                await asyncio.wait_for(self._all_closed, self.limits.shutdown_timeout)
            except TimeoutError:
                log.warning("%d connections still answering at the stop", len(self.connections))
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.abort()
        if self._sweeper is not None:
            self._sweeper.cancel()


def load_factory(factory: str) -> Callable[[], Any]:
    """`module:function`, the function that makes the application (one per worker)."""
    module, _, name = factory.partition(":")
    made: Callable[[], Any] = getattr(importlib.import_module(module), name)
    return made


def tls_context(tls: tuple[str, str] | None) -> ssl.SSLContext | None:
    if tls is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls[0], tls[1])
    return context


def serve_worker(
    factory: str, sock: socket.socket, tls: tuple[str, str] | None, limits: Limits
) -> None:
    """Serve `factory`'s application on `sock` until SIGINT or SIGTERM."""
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    app = load_factory(factory)()
    handler: Handler = getattr(app, "__rsgi__", app)
    init = getattr(app, "__rsgi_init__", None)
    if init is not None:
        init(loop)
    server = Server(handler, limits, tls_context(tls))
    stopped: asyncio.Future[None] = loop.create_future()

    def stop() -> None:
        if not stopped.done():
            stopped.set_result(None)

    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop)
    loop.run_until_complete(server.start(sock))
    loop.run_until_complete(stopped)
    loop.run_until_complete(server.stop())
    finish = getattr(app, "__rsgi_del__", None)
    if finish is not None:
        finish(loop)
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def run(
    factory: str,
    *,
    host: str,
    port: int,
    workers: int = 1,
    tls: tuple[str, str] | None = None,
    limits: Limits | None = None,
) -> int:
    """Serve until stopped; the exit status (1 when a worker could not start)."""
    limits = limits or Limits()
    first = listening_socket(host, port, reuse_port=workers > 1)
    log.info(
        "listening on %s:%d (%d worker%s)",
        host,
        first.getsockname()[1],
        workers,
        "s"[: workers - 1],
    )
    if workers == 1:
        serve_worker(factory, first, tls, limits)
        return 0
    bound = first.getsockname()[1]
    sockets = [first, *(listening_socket(host, bound, reuse_port=True) for _ in range(workers - 1))]
    return Supervisor(factory, sockets, tls, limits).run()


class Supervisor:
    """The main process of N workers: starts them, restarts one that dies, stops them all."""

    def __init__(
        self,
        factory: str,
        sockets: list[socket.socket],
        tls: tuple[str, str] | None,
        limits: Limits,
    ) -> None:
        self.context = multiprocessing.get_context("spawn")
        self.factory = factory
        self.sockets = sockets
        self.tls = tls
        self.limits = limits
        self.stopping = False
        self.workers: list[tuple[Any, float]] = []

    def _start(self, number: int) -> tuple[Any, float]:
        process = self.context.Process(
            target=serve_worker,
            args=(self.factory, self.sockets[number], self.tls, self.limits),
            name=f"termgate worker {number + 1}",
        )
        process.start()
        return process, time.monotonic()

    def _stop(self, _signum: int, _frame: object) -> None:
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGTERM, self._stop)
        self.workers = [self._start(number) for number in range(len(self.sockets))]
        status = 0
        while not self.stopping:
            time.sleep(0.2)
            for number, (process, started) in enumerate(self.workers):
                if process.is_alive() or self.stopping:
                    continue
                if time.monotonic() - started < QUICK_DEATH_SECONDS:
                    log.error("worker %d exited with %s at its start", number + 1, process.exitcode)
                    self.stopping, status = True, 1
                    break
                log.error(
                    "worker %d exited with %s; starting another", number + 1, process.exitcode
                )
                self.workers[number] = self._start(number)
        for process, _ in self.workers:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: the worker's graceful stop
        for process, _ in self.workers:
            process.join(self.limits.shutdown_timeout + 10.0)
            if process.is_alive():
                process.kill()
                process.join()
        return status
