"""The services a simulation runs: the reference API (a child process, as `termgate demo` runs
it) and termgate itself served in this process over real HTTP, so the simulator can move its
clock between two requests (`TermgateServer.move_clock`)."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from termgate.server import TermgateServer
from termgate.settings import Settings

START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _until_answering(url: str, process: asyncio.subprocess.Process | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    async with httpx.AsyncClient(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if process is not None and process.returncode is not None:
                raise RuntimeError(f"{url}: the process exited with {process.returncode}")
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {START_TIMEOUT:.0f} s")


@asynccontextmanager
async def reference_api(port: int, seed: int, employees: int) -> AsyncIterator[str]:
    """The reference payroll API of `seed` on `port`; yields its URL."""
    args = ["--port", str(port), "--seed", str(seed), "--employees", str(employees)]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "termgate.reference_api",
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _until_answering(f"{url}/openapi.json", process)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 10)


@asynccontextmanager
async def termgate(settings: Settings) -> AsyncIterator[TermgateServer]:
    """termgate (gateway and control plane) on `settings.port` in this process's loop."""
    from termgate.http_server import Limits, Server
    from termgate.http_server.serve import listening_socket

    server = TermgateServer(settings)
    await server.start()
    http = Server(server.__rsgi__, Limits())
    await http.start(listening_socket("127.0.0.1", settings.port, reuse_port=False))
    try:
        await _until_answering(f"http://127.0.0.1:{settings.port}/healthz")
        yield server
    finally:
        await http.stop()
        await server.stop()
