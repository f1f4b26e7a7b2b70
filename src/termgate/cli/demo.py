"""`termgate demo`: the reference payroll API behind the gateway, ready to call.

The reference API runs as a child process on the upstream port; the gateway and control plane
serve in this one, and a banner with a working `curl` line appears once the gateway answers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from rich.rule import Rule

from termgate.cli.common import apply_options, console, fail
from termgate.settings import VAR_DIR, Settings

CREDENTIALS_FILE = VAR_DIR / "demo-credentials.json"
START_TIMEOUT = 60.0


def gateway_url(settings: Settings) -> str:
    return f"http://{settings.host}:{settings.port}"


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_for(url: str, process: subprocess.Popen[bytes] | None = None) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        if answers(url):
            return True
        time.sleep(0.1)
    return False


def start_upstream(settings: Settings) -> tuple[subprocess.Popen[bytes], str]:
    url = f"http://127.0.0.1:{settings.upstream_port}"
    if answers(f"{url}/openapi.json"):
        fail(f"port {settings.upstream_port} is taken; set TERMGATE_UPSTREAM_PORT to a free one")
    command = [sys.executable, "-m", "termgate.upstream", "--port", str(settings.upstream_port)]
    command += ["--employees", str(settings.employees), "--seed", str(settings.seed)]
    process = subprocess.Popen(command)
    if not wait_for(f"{url}/openapi.json", process):
        process.kill()
        fail(f"the reference payroll API did not start on {url}")
    return process, url


def banner(settings: Settings, credentials: Path) -> list[str]:
    base = gateway_url(settings)
    key = json.loads(credentials.read_text())["subscription_key"]
    lines = [
        f"[bold]termgate[/] is running on [link={base}]{base}[/] (gateway under {base}/api)",
        f"reference payroll API: http://127.0.0.1:{settings.upstream_port}/openapi.json",
        "",
        "A page of companies through the gateway:",
        f"  curl -s -H 'X-Subscription-Key: {key}' '{base}/api/companies?pageSize=5'",
        "Without the key, a 401 problem naming clause 2 of the terms:",
        f"  curl -s {base}/api/companies",
        "",
        f"demo credentials (for scripts): {credentials}",
        "Press Ctrl-C to stop.",
    ]
    return lines


def announce_when_ready(settings: Settings, credentials: Path) -> None:
    if wait_for(f"{gateway_url(settings)}/healthz"):
        console.print(Rule("termgate demo"))
        for line in banner(settings, credentials):
            console.print(line, soft_wrap=True)  # unwrapped: the curl lines must copy whole
        console.print(Rule())


def run_demo(settings: Settings, credentials: Path) -> None:
    from termgate.server import run_server

    upstream, upstream_url = start_upstream(settings)
    apply_options(upstream_url=upstream_url)  # workers build their settings from the environment
    threading.Thread(target=announce_when_ready, args=(settings, credentials), daemon=True).start()
    try:
        run_server(settings.model_copy(update={"upstream_url": upstream_url}))
    finally:
        upstream.terminate()
        upstream.wait(10)
