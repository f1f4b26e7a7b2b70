"""`termgate mail list|retry|deliver`: the outbox from the command line, through the real CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from termgate.db.models import new_id
from termgate.settings import get_settings
from tests.cli.test_admin import invoke, refused
from tests.conftest import free_port
from tests.support.relay import RefuseFirst


@pytest.fixture
def cli(
    engine: AsyncEngine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    """The CLI on an emptied database (`engine`), its relay a port nothing listens on."""
    monkeypatch.setenv("TERMGATE_DATABASE_URL", database_url)
    monkeypatch.setenv("TERMGATE_SMTP_PORT", str(free_port()))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def listed(cli: CliRunner, *options: str) -> list[dict[str, object]]:
    result = invoke(cli, "mail", "list", "--json", *options)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def test_failed_mail_is_queued_listed_retried_and_delivered_from_the_cli(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = f"dev-{new_id()[:8]}@example.nl"
    assert invoke(cli, "developer", "create", email, "--name", "Ann Jansen").exit_code == 0
    suspended = invoke(cli, "suspend", "developer", email, "--reason", "unpaid invoices")
    assert suspended.exit_code == 0, suspended.output
    assert "a notice to the developer is queued" in suspended.stdout
    assert "told" not in suspended.stdout

    [waiting] = listed(cli)
    assert (waiting["recipient"], waiting["state"], waiting["attempts"]) == (email, "pending", 1)
    assert "Connect" in str(waiting["last_error"])
    assert "body" not in waiting
    assert listed(cli, "--state", "failed") == []
    table = invoke(cli, "mail", "list")
    assert email in table.stdout
    assert "[Errno 111]" in table.stdout  # the error's brackets are text, not markup

    again = invoke(cli, "mail", "retry", str(waiting["id"]))
    assert again.exit_code == 0, again.output
    assert f"mail {waiting['id']} queued again; not sent yet (" in again.stdout
    assert listed(cli)[0]["attempts"] == 2

    relay = RefuseFirst(refusals=0)
    port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("TERMGATE_SMTP_PORT", str(port))
        monkeypatch.setenv("TERMGATE_CLOCK_OFFSET_SECONDS", "3600")  # past the backoff
        get_settings.cache_clear()
        delivered = invoke(cli, "mail", "deliver", "--once")
    finally:
        controller.stop()
    assert delivered.exit_code == 0, delivered.output
    assert delivered.stdout.strip() == "sent 1; 0 to retry later; 0 failed for good"
    assert relay.subjects == [f"Your developer account {email} was suspended"]
    assert listed(cli) == []
    [sent] = listed(cli, "--state", "sent")
    assert (sent["id"], sent["attempts"], sent["last_error"]) == (waiting["id"], 3, None)

    refused(invoke(cli, "mail", "retry", str(waiting["id"])), "was already sent")
    refused(invoke(cli, "mail", "retry", "no\x1bsuch"), "no mail with id 'no\\x1bsuch'")
    bad_state = invoke(cli, "mail", "list", "--state", "lost")
    assert bad_state.exit_code == 2
    assert "Traceback" not in bad_state.output
