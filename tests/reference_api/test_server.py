"""`python -m termgate.reference_api` serves real HTTP under granian, on the port it is given."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from termgate.reference_api import generate
from tests.conftest import free_port


def test_the_command_serves_the_seeded_world_over_http() -> None:
    port = free_port()
    command = [sys.executable, "-m", "termgate.reference_api", "--port", str(port),
               "--employees", "300", "--seed", "5"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else b""
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/companies", timeout=2,
                                     headers={"X-Request-Id": "real-1"})  # fmt: skip
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the API did not listen"
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.headers["x-request-id"] == "real-1"
        world = generate(5, 300)
        assert [c["companyId"] for c in response.json()["data"]] == [c.id for c in world.companies]
    finally:
        process.terminate()
        process.wait(timeout=20)
