"""deploy/healthcheck.py, the image's HEALTHCHECK, run as the container runs it: healthy only when
the node's /healthz on TERMGATE_PORT answers 200."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "healthcheck.py"


class Node(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def node() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Node)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def check(port: int, host: str = "0.0.0.0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TERMGATE_PORT": str(port), "TERMGATE_HOST": host}
    env.pop("TERMGATE_TLS_CERT_FILE", None)
    return subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=20
    )


def test_a_node_whose_healthz_answers_200_is_healthy(node: ThreadingHTTPServer) -> None:
    assert check(node.server_address[1]).returncode == 0


def test_a_node_that_answers_otherwise_is_unhealthy(
    node: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Node, "status", 503)
    assert check(node.server_address[1], host="127.0.0.1").returncode == 1


def test_a_node_that_does_not_listen_is_unhealthy(node: ThreadingHTTPServer) -> None:
    port = node.server_address[1]
    node.shutdown()
    node.server_close()

    result = check(port)

    assert result.returncode == 1
    assert f"unhealthy: http://127.0.0.1:{port}/healthz" in result.stderr
