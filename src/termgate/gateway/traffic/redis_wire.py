"""A lean Redis client for the limiter: one pipelined asyncio connection, RESP2 by hand.

redis-py's asyncio client cost ~250 µs of CPU per `EVALSHA` (a pool checkout, a lock, its
command encoder and reply parser, a task per timeout); the limiter needs none of it. Here the
caller hands over a command already encoded, the commands of one event-loop turn are written
together on the one connection (one send for all of them, one read and one write in Redis), and
a future per command (or a `Receiver` that hands the reply on at once) receives its reply in
order (Redis answers a connection's commands in the order sent, so any number of requests share
it without waiting for each other). Deadlines are
watched by one timer for the oldest command instead of one per command. docs/performance.md has
the figures.

A command that gets no answer within the timeout breaks the connection: every command waiting
on it fails, and the next call connects afresh (the replies could no longer be matched to their
commands). So does a connection Redis closes.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Any, Final, Protocol, TypeAlias

from redis.connection import parse_url

CRLF: Final = b"\r\n"


class ReplyError(Exception):
    """An error reply of Redis (`-ERR ...`, `-NOSCRIPT ...`)."""


# A parsed reply; error replies are values too (the caller raises them).
Reply: TypeAlias = int | bytes | ReplyError | list["Reply"] | None


class Receiver(Protocol):
    """What gets a command's reply: a future, or an object that hands it on at once."""

    def done(self) -> bool: ...

    def set_result(self, result: Reply, /) -> None: ...

    def set_exception(self, exception: BaseException, /) -> None: ...


class _Incomplete:
    """More bytes are needed before the reply can be read."""


INCOMPLETE: Final = _Incomplete()


def encode(*parts: bytes) -> bytes:
    """One command in RESP: an array of bulk strings."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(out)


def bulk(part: bytes) -> bytes:
    """One argument of a command as RESP bulk string (to append to a pre-encoded head)."""
    return b"$%d\r\n%s\r\n" % (len(part), part)


def parse(buffer: bytes, at: int) -> tuple[Reply | _Incomplete, int]:
    """The reply that starts at `at` and where the next one starts, or INCOMPLETE."""
    end = buffer.find(CRLF, at)
    if end < 0:
        return INCOMPLETE, at
    kind = buffer[at]
    if kind == 36:  # '$' bulk string (the limiter's answer)
        size = int(buffer[at + 1 : end])
        if size < 0:
            return None, end + 2
        stop = end + 2 + size
        if len(buffer) < stop + 2:
            return INCOMPLETE, at
        return bytes(buffer[end + 2 : stop]), stop + 2
    if kind == 58:  # ':' integer
        return int(buffer[at + 1 : end]), end + 2
    if kind == 42:  # '*' array
        count = int(buffer[at + 1 : end])
        if count < 0:
            return None, end + 2
        items: list[Reply] = []
        position = end + 2
        for _ in range(count):
            end = buffer.find(CRLF, position)
            if end < 0:
                return INCOMPLETE, at
            if buffer[position] == 58:  # integers, read inline
                items.append(int(buffer[position + 1 : end]))
                position = end + 2
                continue
            item, position = parse(buffer, position)
            if item is INCOMPLETE:
                return INCOMPLETE, at
            items.append(item)  # type: ignore[arg-type]
        return items, position
    if kind == 43:  # '+' simple string
        return bytes(buffer[at + 1 : end]), end + 2
    if kind == 45:  # '-' error
        return ReplyError(bytes(buffer[at + 1 : end]).decode("utf-8", "replace")), end + 2
    raise ConnectionError(f"not a Redis reply: {bytes(buffer[at : at + 20])!r}")


class RespConnection(asyncio.Protocol):
    """One connection: commands written as they come, replies handed out in order."""

    def __init__(self, timeout: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.timeout = timeout
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiting: deque[tuple[Receiver, float]] = deque()
        self.outgoing: list[bytes] = []  # commands of this loop turn, not yet written
        self.watch: asyncio.TimerHandle | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, command: bytes) -> asyncio.Future[Reply]:
        """Write `command`; the future gets its reply (or the connection's failure)."""
        future: asyncio.Future[Reply] = self.loop.create_future()
        if self.closed or self.transport is None:
            future.set_exception(ConnectionError("the connection to Redis is closed"))
            return future
        deadline = self.loop.time() + self.timeout
        self.waiting.append((future, deadline))
        outgoing = self.outgoing
        outgoing.append(command)
        if len(outgoing) == 1:
            self.loop.call_soon(self._flush)
        if self.watch is None:
            self.watch = self.loop.call_at(deadline, self._check_deadline)
        return future

    def send_now(self, command: bytes, receiver: Receiver) -> None:
        """Write `command` now, after what this loop turn queued before it; `receiver` gets its
        reply (for a caller that is already at the end of the turn: no second turn to wait)."""
        if self.closed or self.transport is None:
            receiver.set_exception(ConnectionError("the connection to Redis is closed"))
            return
        deadline = self.loop.time() + self.timeout
        self.waiting.append((receiver, deadline))
        self.outgoing.append(command)
        self._flush()
        if self.watch is None:
            self.watch = self.loop.call_at(deadline, self._check_deadline)

    def _flush(self) -> None:
        """Write the commands of one event-loop turn at once: one send here, one read and one
        write in Redis for all of them (the replies come back together too)."""
        outgoing = self.outgoing
        if not outgoing or self.closed or self.transport is None:
            outgoing.clear()
            return
        self.transport.write(outgoing[0] if len(outgoing) == 1 else b"".join(outgoing))
        outgoing.clear()

    def _check_deadline(self) -> None:
        self.watch = None
        if not self.waiting:
            return
        deadline = self.waiting[0][1]
        # A timer may fire up to the clock's resolution early.
        if self.loop.time() + self.loop._clock_resolution >= deadline:  # type: ignore[attr-defined]
            self.fail(TimeoutError(f"Redis did not answer within {self.timeout} s"))
        else:
            self.watch = self.loop.call_at(deadline, self._check_deadline)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        position = 0
        waiting = self.waiting
        try:
            while position < len(buffer):
                reply, position_after = parse(buffer, position)
                if reply is INCOMPLETE:
                    break
                position = position_after
                if not waiting:
                    raise ConnectionError("Redis sent a reply to no command")
                future = waiting.popleft()[0]
                if not future.done():  # its caller may have been cancelled
                    future.set_result(reply)  # type: ignore[arg-type]
        except (ValueError, IndexError, ConnectionError) as error:
            self.fail(ConnectionError(f"unreadable reply from Redis: {error}"))
            return
        self.buffer = buffer[position:] if position < len(buffer) else b""

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(ConnectionError(f"Redis closed the connection ({exc or 'end of stream'})"))

    def fail(self, error: Exception) -> None:
        """Fail every waiting command and drop the connection."""
        self.closed = True
        if self.watch is not None:
            self.watch.cancel()
            self.watch = None
        self.outgoing.clear()
        waiting, self.waiting = self.waiting, deque()
        for future, _ in waiting:
            if not future.done():
                future.set_exception(error)
        if self.transport is not None:
            self.transport.abort()


class RedisWire:
    """The limiter's client: `call` an encoded command, get its reply, raise error replies.

    Connects on first use (and after a failure) with `timeout` for the connection, the
    AUTH/SELECT the URL asks for, and each command."""

    def __init__(self, url: str, *, timeout: float) -> None:
        options: dict[str, Any] = parse_url(url)  # type: ignore[no-untyped-call]
        self.timeout = timeout
        self.host = str(options.get("host", "localhost"))
        self.port = int(options.get("port", 6379))
        self.path: str | None = options.get("path")
        self.tls = url.startswith("rediss://")
        self.setup: list[bytes] = []
        password, username = options.get("password"), options.get("username")
        if password is not None:
            auth = [username.encode()] if username else []
            self.setup.append(encode(b"AUTH", *auth, password.encode()))
        if int(options.get("db", 0)):
            self.setup.append(encode(b"SELECT", b"%d" % int(options["db"])))
        self.connection: RespConnection | None = None
        self.opening: asyncio.Future[RespConnection] | None = None
        self.connections_made = 0

    async def connect(self) -> RespConnection:
        """The open connection, made first when there is none. Callers that come while it is
        being made wait for the same attempt and share its outcome: a Redis that takes no
        connections costs each of them one timeout, not one per caller ahead of it."""
        current = self.connection
        if current is not None and not current.closed:
            return current
        if self.opening is None:
            self.opening = asyncio.ensure_future(self._open())
            self.opening.add_done_callback(self._opened)
        return await asyncio.shield(self.opening)

    def _opened(self, attempt: asyncio.Future[RespConnection]) -> None:
        self.opening = None
        if not attempt.cancelled() and attempt.exception() is None:
            self.connection = attempt.result()

    async def _open(self) -> RespConnection:
        loop = asyncio.get_running_loop()
        self.connections_made += 1
        if self.path is not None:
            opening = loop.create_unix_connection(lambda: RespConnection(self.timeout), self.path)
        else:
            context = ssl.create_default_context() if self.tls else None
            opening = loop.create_connection(
                lambda: RespConnection(self.timeout), self.host, self.port, ssl=context
            )
        where = self.path or f"{self.host}:{self.port}"
        try:
            _, connection = await asyncio.wait_for(opening, self.timeout)
        except TimeoutError:
            raise TimeoutError(f"no connection to {where} within {self.timeout} s") from None
        except OSError as error:
            reason = f"Error {error.errno} connecting to {where}: {error.strerror or error}"
            raise ConnectionError(reason) from None
        for command in self.setup:
            reply = await connection.send(command)
            if isinstance(reply, ReplyError):
                connection.fail(ConnectionError("Redis refused the connection's setup"))
                raise reply
        return connection

    async def call(self, command: bytes) -> Reply:
        connection = self.connection
        if connection is None or connection.closed:
            connection = await self.connect()
        reply = await connection.send(command)
        if isinstance(reply, ReplyError):
            raise reply
        return reply

    async def call_all(self, commands: list[bytes]) -> list[Reply]:
        """Several commands in one write (a pipeline); raises the first error reply."""
        connection = self.connection
        if connection is None or connection.closed:
            connection = await self.connect()
        replies: list[Reply] = await asyncio.gather(
            *(connection.send(command) for command in commands)
        )
        for reply in replies:
            if isinstance(reply, ReplyError):
                raise reply
        return replies

    async def aclose(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None and not connection.closed:
            connection.closed = True
            if connection.transport is not None:
                connection.transport.close()
