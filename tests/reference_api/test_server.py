"""`serve` runs the API under granian: a real HTTP request to a real worker process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

from termgate.reference_api import generate
from tests.conftest import free_port


def _wait_for(port: int, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"the upstream did not listen on {port}")


def test_serve_answers_real_http_with_the_seeded_data() -> None:
    port = free_port()
    code = f"from termgate.reference_api import serve; serve('127.0.0.1', {port}, 5, 300)"
    process = subprocess.Popen(
        [sys.executable, "-c", code], env=os.environ.copy(), stderr=subprocess.PIPE
    )
    try:
        _wait_for(port, process)
        base = f"http://127.0.0.1:{port}"
        response = httpx.get(
            f"{base}/api/companies/2001/employees",
            headers={"X-Request-Id": "real-1"},
        )
        assert response.status_code == 200
        assert response.headers["x-request-id"] == "real-1"
        data = generate(5, 300)
        assert response.json()["data"] == data.employees_by_company[2001][:20]
        document = data.details(100001).documents[0]
        url = f"{base}/api/companies/2001/employees/100001/documents/{document['id']}/content"
        with httpx.stream("GET", url) as streamed:
            assert streamed.headers["transfer-encoding"] == "chunked"
            assert len(streamed.read()) == document["size"]
    finally:
        process.terminate()
        process.wait(timeout=10)
