"""A request's coroutine run without an asyncio Task: stepped on the futures it awaits.

A Task per request costs about a microsecond more than this: it registers itself in asyncio's
set of all tasks (a `WeakSet`, in Python), copies the context and is a heavier object to make and
collect. A request's coroutine needs none of that: it awaits futures (the upstream's answer, the
body's next piece, a pooled connection), and each is given this step as its done-callback, as a
Task's own step would be.

What it gives up, and so what an application served this way must not use: `current_task()` is
None inside it, so `asyncio.timeout()` and anyio (Starlette) do not work there. An application
that needs them runs in a Task of its own (`in_task`), which the stepped coroutine awaits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any


class Stepped:
    """Runs `coroutine` to its end: each step resumes it when the future it yielded is done."""

    __slots__ = ("_coroutine",)

    def __init__(self, coroutine: Coroutine[Any, Any, None]) -> None:
        self._coroutine = coroutine

    def step(self, _done: object = None, error: BaseException | None = None) -> None:
        try:
            coroutine = self._coroutine
            awaited = coroutine.send(None) if error is None else coroutine.throw(error)
        except (StopIteration, asyncio.CancelledError):
            return  # anything else it raised, the server's own coroutine has caught and logged
        if getattr(awaited, "_asyncio_future_blocking", None):  # `await future`, as a Task does
            awaited._asyncio_future_blocking = False
            awaited.add_done_callback(self.step)
        elif awaited is None:  # a bare yield (`asyncio.sleep(0)`): the loop's next turn
            asyncio.get_running_loop().call_soon(self.step)
        else:  # a yield no Task could wait on either: raised where it was made, as a Task does
            wrong = RuntimeError(f"a request's coroutine yielded {awaited!r}, not a future")
            asyncio.get_running_loop().call_soon(self.step, None, wrong)


async def in_task(awaitable: Awaitable[None]) -> None:
    """`awaitable` in a Task of its own, for an application that needs `current_task()`."""
    await asyncio.ensure_future(awaitable)
