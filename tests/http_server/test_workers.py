"""Issue 11: `run` with N workers serves from N processes, replaces one that dies, and stops
gracefully on SIGTERM: the answer in hand is finished, then `__rsgi_del__` runs, exit status 0.
TLS answers https with the scheme the application sees as "https"."""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.http_server.apps import App
from tests.http_server.client import Wire, get
from tests.http_server.conftest import TEST_LIMITS, serve_in_thread
from tests.support.processes import kill_hard, spawn, wait_until_answering
from tests.test_tls import write_pair


def started(workers: int, marker: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = spawn(
        ["-m", "tests.http_server.serve_main", str(port), str(workers)],
        env={"TERMGATE_TEST_DEL_MARKER": str(marker)},
    )
    wait_until_answering(f"http://127.0.0.1:{port}/", process)
    return process, port


def pid_of_fresh_connection(port: int) -> int:
    with httpx.Client() as client:  # a new connection each time
        return int(client.get(f"http://127.0.0.1:{port}/", headers={"x-act": "pid"}).text)


def pids(port: int, tries: int = 60) -> set[int]:
    return {pid_of_fresh_connection(port) for _ in range(tries)}


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    marker = tmp_path / "deleted"
    process, port = started(2, marker)
    try:
        yield process, port, marker
    finally:
        kill_hard(process)


def test_issue_11_two_workers_serve_from_two_processes_and_one_killed_is_replaced(
    two_workers: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    process, port, _ = two_workers
    first = pids(port)
    assert len(first) == 2
    assert process.pid not in first
    time.sleep(5.5)  # past the start-up window in which a worker's death stops the server
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 20
    seen: set[int] = set()
    while time.monotonic() < deadline and len(seen - first) == 0:
        try:
            seen |= pids(port, 10)
        except httpx.TransportError:
            time.sleep(0.1)
    assert victim not in seen
    assert len(seen - first) == 1
    assert process.poll() is None


def stop_during_request(process: subprocess.Popen[bytes], port: int) -> httpx.Response:
    answers: list[httpx.Response] = []

    def slow() -> None:
        url = f"http://127.0.0.1:{port}/?1.5"
        answers.append(httpx.get(url, headers={"x-act": "sleep"}, timeout=10))

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    thread.join(10)
    assert process.wait(20) == 0
    return answers[0]


@pytest.mark.parametrize("workers", [1, 2])
def test_issue_11_sigterm_finishes_the_request_in_hand_then_rsgi_del_runs(
    tmp_path: Path, workers: int
) -> None:
    marker = tmp_path / "deleted"
    process, port = started(workers, marker)
    try:
        answer = stop_during_request(process, port)
    finally:
        kill_hard(process)
    assert answer.status_code == 200
    assert answer.text == "slept"
    assert marker.read_text() == "deleted"


def test_issue_11_tls_serves_https_and_the_scheme_is_https(tmp_path: Path) -> None:
    cert, key = write_pair(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    running, thread = serve_in_thread(App(), TEST_LIMITS, context)
    try:
        answer = httpx.get(
            f"https://127.0.0.1:{running.port}/x?y",
            verify=ssl.create_default_context(cafile=str(cert)),
        )
        seen = answer.json()
        assert (seen["scheme"], seen["path"], seen["query_string"]) == ("https", "/x", "y")
    finally:
        running.loop.call_soon_threadsafe(running.loop.stop)
        thread.join(10)


def test_issue_11_a_stop_ends_idle_connections_at_once_and_busy_ones_after_their_answer() -> None:
    running, thread = serve_in_thread(App(), TEST_LIMITS)
    try:
        with Wire(running.port) as idle, Wire(running.port) as busy:
            idle.send(get("/", "x-act: early"))
            assert idle.read().status == 200
            busy.send(get("/?0.8", "x-act: sleep"))
            time.sleep(0.2)
            stopping = asyncio.run_coroutine_threadsafe(running.server.stop(), running.loop)
            assert idle.closed(timeout=0.5)
            answer = busy.read()
            assert (answer.status, answer.body) == (200, b"slept")
            assert answer.header("connection") == "close"
            assert busy.closed(timeout=1.0)
            stopping.result(5)
            with pytest.raises(ConnectionRefusedError):
                Wire(running.port, timeout=1.0)  # no longer accepting
    finally:
        running.loop.call_soon_threadsafe(running.loop.stop)
        thread.join(10)
