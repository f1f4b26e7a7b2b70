"""The server steps each request's coroutine without a Task (http_server/stepped.py): it must run
exactly as a Task would run it, for everything a request awaits (issue 11: the request path's
cost)."""

from __future__ import annotations

import asyncio

import pytest

from termgate.http_server.stepped import Stepped, in_task


async def until(condition: list[object], turns: int = 20) -> None:
    for _ in range(turns):
        if condition:
            return
        await asyncio.sleep(0)


async def test_issue_11_a_stepped_coroutine_resumes_on_each_future_it_awaits() -> None:
    loop = asyncio.get_running_loop()
    first, second = loop.create_future(), loop.create_future()
    seen: list[object] = []

    async def request() -> None:
        seen.append(await first)
        await asyncio.sleep(0)  # a bare yield: the loop's next turn
        seen.append(await second)

    Stepped(request()).step()
    assert seen == []  # suspended on `first`, nothing done yet
    first.set_result("head")
    await until(seen)
    assert seen == ["head"]
    second.set_result("body")
    await until(seen[1:])
    assert seen == ["head", "body"]


async def test_issue_11_an_exception_set_on_an_awaited_future_is_raised_in_the_coroutine() -> None:
    future = asyncio.get_running_loop().create_future()
    caught: list[BaseException] = []

    async def request() -> None:
        try:
            await future
        except (ConnectionError, asyncio.CancelledError) as error:
            caught.append(error)

    Stepped(request()).step()
    future.set_exception(ConnectionError("upstream gone"))
    await until(caught)
    assert isinstance(caught[0], ConnectionError)

    cancelled = asyncio.get_running_loop().create_future()
    future = cancelled
    Stepped(request()).step()
    cancelled.cancel()
    await until(caught[1:])
    assert isinstance(caught[1], asyncio.CancelledError)


async def test_issue_11_a_stepped_coroutine_can_await_tasks_gather_and_wait_for() -> None:
    done: list[object] = []

    async def piece(value: int) -> int:
        await asyncio.sleep(0)
        return value

    async def request() -> None:
        both = await asyncio.gather(piece(1), piece(2))
        third = await asyncio.wait_for(piece(3), 1.0)
        await in_task(piece(4))
        done.append((*both, third))

    Stepped(request()).step()
    await until(done, turns=50)
    assert done == [(1, 2, 3)]


async def test_issue_11_a_yield_no_task_could_wait_on_is_raised_where_it_was_made() -> None:
    class Odd:
        def __await__(self):  # type: ignore[no-untyped-def]
            yield "not a future"

    raised: list[BaseException] = []

    async def request() -> None:
        try:
            await Odd()
        except RuntimeError as error:
            raised.append(error)

    Stepped(request()).step()
    await until(raised)
    assert "not a future" in str(raised[0])


async def test_issue_11_current_task_is_none_in_a_stepped_coroutine_and_set_in_task() -> None:
    """Why the control plane (Starlette, anyio) is served `in_task`: it needs `current_task()`."""
    tasks: list[object] = []

    async def look() -> None:
        tasks.append(asyncio.current_task())

    async def request() -> None:
        await look()
        await in_task(look())

    asyncio.get_running_loop().call_soon(Stepped(request()).step)  # as the server starts one
    await until(tasks[1:])
    assert tasks[0] is None
    assert isinstance(tasks[1], asyncio.Task)


def test_issue_11_a_stepped_coroutine_stops_the_loop_on_keyboard_interrupt() -> None:
    async def request() -> None:
        await asyncio.sleep(0)
        raise KeyboardInterrupt

    async def main() -> None:
        Stepped(request()).step()
        await asyncio.sleep(0.05)

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(main())
