"""`termgate demo`: the reference payroll API behind the gateway, ready to call.

Two helpers run as child processes: the reference API of the published contract
(`termgate.reference_api`, GUID ids, the seeded world of ~2,000 employees) on the upstream port and
a local SMTP
capture server on the mail port (its messages show in the console). The gateway and control
plane serve in this process; a banner with working `curl` lines appears once the gateway answers.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from rich.rule import Rule

from termgate.cli.common import apply_options, console, fail
from termgate.reference_api import generate
from termgate.settings import VAR_DIR, Settings

CREDENTIALS_FILE = VAR_DIR / "demo-credentials.json"
START_TIMEOUT = 60.0


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes] | None = None) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        if ready():
            return True
        time.sleep(0.1)
    return False


@contextmanager
def child(name: str, module: str, args: list[str], ready: Callable[[], bool]) -> Iterator[None]:
    if ready():
        fail(f"the {name}'s port is taken; choose another in the configuration")
    process = subprocess.Popen([sys.executable, "-m", module, *args])
    try:
        if not wait_until(ready, process):
            fail(f"the {name} did not start")
        yield
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def demo_services(settings: Settings) -> Iterator[None]:
    """The mail capture server and the reference payroll API, for as long as the demo runs."""
    upstream = f"http://127.0.0.1:{settings.upstream_port}"
    upstream_args = ["--port", str(settings.upstream_port), "--seed", str(settings.seed)]
    upstream_args += ["--employees", str(settings.employees)]
    with ExitStack() as stack:
        stack.enter_context(
            child(
                "mail capture server",
                "termgate.notify.capture",
                [],
                lambda: port_open(settings.smtp_host, settings.smtp_port),
            )
        )
        stack.enter_context(
            child(
                "reference payroll API",
                "termgate.reference_api",
                upstream_args,
                lambda: answers(f"{upstream}/openapi.json"),
            )
        )
        # Gateway workers read their settings from the environment.
        apply_options(upstream_url=upstream, example_client=True)
        yield


def first_company(settings: Settings, debtor: str) -> str:
    """The companyId of the debtor's first company in the reference API's world of the seed."""
    world = generate(settings.seed, settings.employees)
    return world.companies_of(world.debtor_by_id[debtor])[0].id


def banner(settings: Settings, credentials: Path) -> list[str]:
    base = settings.base_url
    logins = json.loads(credentials.read_text())
    key, token = logins["subscription_key"], logins["access_token"]
    accountant = max(logins["end_users"], key=lambda user: len(user["debtors"]))
    debtor = logins["end_users"][0]["debtors"][0]
    company = first_company(settings, debtor)
    auth = f"-H 'X-Subscription-Key: {key}' -H 'Authorization: Bearer {token}'"
    return [
        f"[bold]termgate[/] is running on {base} (gateway under {base}/api)",
        f"reference payroll API: http://127.0.0.1:{settings.upstream_port}/openapi.yaml "
        "(the published contract)",
        "",
        "Through the gateway, with the application's key and a payroll user's token (that user",
        "consented to share one customer; the token lasts an hour): the customer, its companies,",
        "a page of one company's employees:",
        f"  curl -s {auth} '{base}/api/debtors'",
        f"  curl -s {auth} '{base}/api/debtors/{debtor}/companies'",
        f"  curl -s {auth} '{base}/api/companies/{company}/employees?pageSize=5'",
        "Without them, a 401 problem naming clause 2 of the terms:",
        f"  curl -s {base}/api/debtors",
        "",
        f"developer portal  {base}/portal   {logins['developer_email']} / "
        f"{logins['developer_password']}",
        f"provider console  {base}/console  {logins['console_email']} / "
        f"{logins['console_password']}",
        f"example client    {base}/example-client   sign in as {accountant['username']} / "
        f"{accountant['password']} (sees two customers)",
        f"demo credentials (for scripts): {credentials}",
        "Press Ctrl-C to stop.",
    ]


def announce_when_ready(settings: Settings, credentials: Path) -> None:
    if wait_until(lambda: answers(f"{settings.base_url}/healthz")):
        rule_width = None if console.is_terminal else 80  # piped: not the unwrapped width
        console.print(Rule("termgate demo"), width=rule_width)
        for line in banner(settings, credentials):
            console.print(line, soft_wrap=True)  # unwrapped: the curl lines must copy whole
        console.print(Rule(), width=rule_width)


def serve_demo(settings: Settings, credentials: Path) -> None:
    from termgate.server import run_server

    threading.Thread(target=announce_when_ready, args=(settings, credentials), daemon=True).start()
    run_server(settings)
