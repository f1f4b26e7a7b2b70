"""Real server processes for integration tests: started, awaited until they answer, stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from importlib.resources import files
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def answer(url: str) -> None:
    """An HTTP answer, or for `tcp://host:port` an accepted connection; raises until then."""
    if url.startswith("tcp://"):
        host, _, port = url.removeprefix("tcp://").rpartition(":")
        socket.create_connection((host, int(port)), timeout=1.0).close()
    else:
        httpx.get(url, timeout=1.0)


def wait_until_answering(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"server exited with {process.returncode}:\n{output}")
        try:
            answer(url)
            return
        except (httpx.TransportError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen[bytes], timeout: float = 15.0) -> str:
    """Stop cleanly (SIGINT, as Ctrl-C does) and return what the process printed."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.stdout.read().decode() if process.stdout else ""


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and every worker it started, as a crash or the OOM killer would."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def spawn(args: list[str], env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A server process in a session of its own, not yet awaited (see `wait_until_answering`)."""
    return _spawn(args, env)


def _spawn(args: list[str], env: Mapping[str, str] | None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )


@contextmanager
def running(
    args: list[str], ready_url: str, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    process = _spawn(args, env)
    try:
        wait_until_answering(ready_url, process)
        yield process
    finally:
        stop(process)


@asynccontextmanager
async def serving(
    args: list[str], ready_url: str, env: Mapping[str, str] | None = None
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """As `running`, without blocking the test's event loop (servers on it stay responsive)."""
    process = _spawn(args, env)
    try:
        await asyncio.to_thread(wait_until_answering, ready_url, process)
        yield process
    finally:
        await asyncio.to_thread(stop, process)


# The tenancy a gateway uses unless told otherwise (the published contract's), named explicitly
# where a test depends on it.
PUBLISHED_TENANCY = str(files("termgate.gateway.tenancy").joinpath("published.toml"))


def gateway_env(database_url: str, port: int, upstream: str, **settings: str) -> dict[str, str]:
    env = {
        "TERMGATE_DATABASE_URL": database_url,
        "TERMGATE_PORT": str(port),
        "TERMGATE_UPSTREAM_URL": upstream,
        "TERMGATE_SNAPSHOT_REFRESH_SECONDS": "0.2",
        "TERMGATE_USAGE_FLUSH_SECONDS": "0.2",
        "TERMGATE_LOG_LEVEL": "warning",
    }
    env.update({f"TERMGATE_{name.upper()}": value for name, value in settings.items()})
    return env
