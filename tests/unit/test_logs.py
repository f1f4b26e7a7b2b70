"""The log an operator reads: its formats, the access line's masking, and the gateway's access
log costing nothing when it is off."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
import structlog

from termgate.core import logs
from termgate.core.access_log import AccessLog, masked_query, peer_address
from termgate.core.proxies import TrustedProxies
from termgate.gateway.exchange import Exchange
from termgate.gateway.observe import UsageRecorder
from termgate.secret_settings import HIDDEN
from termgate.server import startup_line
from termgate.settings import load_settings, proxy_networks
from tests.support.logs import Configure, configured
from tests.unit.builders import grant

__all__ = ["configured"]  # the fixture


def test_json_lines_parse_with_timestamp_level_event_and_request_id(configured: Configure) -> None:
    buffer = configured("json")
    structlog.contextvars.bind_contextvars(request_id="abc-1")
    logging.getLogger("termgate.test").warning("snapshot %s", "stale")
    logs.get("termgate.test").info("decision", actor="ops@provider.example")
    first, second = (json.loads(line) for line in buffer.getvalue().splitlines())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", first["timestamp"])
    assert (first["level"], first["event"], first["request_id"]) == (
        "warning",
        "snapshot stale",
        "abc-1",
    )
    assert second["actor"] == "ops@provider.example"
    assert second["request_id"] == "abc-1"


def test_logfmt_line_starts_with_timestamp_level_logger_event(configured: Configure) -> None:
    buffer = configured("logfmt")
    logging.getLogger("termgate.test").info("usage flushed", extra={"events": 3})
    (line,) = buffer.getvalue().splitlines()
    assert re.fullmatch(
        r"timestamp=\S+Z level=info logger=termgate\.test event=\"usage flushed\" events=3", line
    ), line


def test_a_control_character_in_a_value_cannot_start_a_forged_line(
    configured: Configure,
) -> None:
    buffer = configured("logfmt")
    forged = "/x\r\ntimestamp=2026 level=info event=\x1b[31mfake"
    logging.getLogger("termgate.test").info("request", extra={"path": forged})
    assert len(buffer.getvalue().splitlines()) == 1
    assert "\x1b" not in buffer.getvalue()
    assert "\r" not in buffer.getvalue()


def test_an_exception_in_json_is_one_line_without_local_variables(configured: Configure) -> None:
    buffer = configured("json")
    password = "hunter2-local"
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("termgate.test").exception("failed")
    (line,) = buffer.getvalue().splitlines()
    assert json.loads(line)["exception"][0]["exc_type"] == "ValueError"
    assert password not in line


def test_auto_is_logfmt_when_not_a_terminal() -> None:
    assert logs.effective_format("auto", io.StringIO()) == "logfmt"
    assert logs.effective_format("json", io.StringIO()) == "json"


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("code=abc&state=s1", "code=***&state=s1"),
        ("access_token=t0k&pageSize=20", "access_token=***&pageSize=20"),
        ("client_secret=x&client_id=app", "client_secret=***&client_id=app"),
        ("Subscription-Key=k&a=1", "Subscription-Key=***&a=1"),
        ("%63ode=abc", "%63ode=***"),  # a percent-encoded name is still a code
        ("password", "password"),  # no value, nothing to hide
        ("", ""),
    ],
)
def test_query_secrets_are_masked_in_the_access_line(query: str, shown: str) -> None:
    assert masked_query(query) == shown


def test_a_huge_query_is_clipped() -> None:
    assert len(masked_query("a=" + "x" * 100_000)) < 600


def exchange(query: str = "access_token=SECRET&page=1") -> Exchange:
    sent = Exchange(
        "GET", "/api/companies/1", query, {"x-forwarded-for": "203.0.113.9"}, "r-1", 1.0, 2.0
    )
    sent.status, sent.bytes_out = 200, 321
    sent.peer = "10.0.0.2:41000"
    sent.grant = grant(key_id="key-7", application_id="app-3")
    return sent


def recorder(access: AccessLog | None) -> UsageRecorder:
    return UsageRecorder(
        None,  # type: ignore[arg-type]  # record() never touches the database
        flush_seconds=1,
        batch_size=10,
        buffer_limit=100,
        access=access,
    )


def test_gateway_access_log_on_is_one_line_with_ids_and_masked_query(
    caplog: pytest.LogCaptureFixture,
) -> None:
    trusted = TrustedProxies(proxy_networks("10.0.0.0/8"))
    usage = recorder(AccessLog(trusted))
    with caplog.at_level(logging.INFO, "termgate.access"):
        usage.record(exchange(), 1.25)
    (line,) = [r for r in caplog.records if r.name == "termgate.access"]
    fields = line.__dict__
    assert fields["query"] == "access_token=***&page=1"
    assert (fields["key_id"], fields["application_id"]) == ("key-7", "app-3")
    assert fields["client_ip"] == "203.0.113.9"  # forwarded by a trusted proxy
    assert (fields["status"], fields["bytes"], fields["duration_ms"]) == (200, 321, 250.0)
    assert "SECRET" not in caplog.text
    assert len(usage.buffer) == 1


def test_gateway_access_log_off_writes_nothing_and_keeps_the_plain_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    usage = recorder(None)
    with caplog.at_level(logging.DEBUG):
        usage.record(exchange(), 1.25)
    assert not [r for r in caplog.records if r.name == "termgate.access"]
    assert "record" not in vars(usage)  # the request path calls the class's method, unchanged
    assert len(usage.buffer) == 1


def test_the_peer_address_of_an_ipv6_client() -> None:
    assert peer_address("[::1]:5000") == "::1"
    assert peer_address("127.0.0.1:80") == "127.0.0.1"


def test_start_up_line_masks_the_database_password_and_the_secret_key() -> None:
    settings = load_settings(
        database_url="postgresql+asyncpg://termgate:hunter2-db@db.internal:5432/termgate",
        secret_key="s" * 40,
        limiter_backend="redis",
        redis_url="redis://:hunter2-redis@cache:6379/0",
    )
    line = startup_line(settings, "json")
    shown = json.dumps(line)
    assert "hunter2" not in shown
    assert "s" * 40 not in shown
    assert line["database"] == f"postgresql+asyncpg://termgate:{HIDDEN}@db.internal:5432/termgate"
    assert line["secret_key"] == HIDDEN
    assert (line["limiter"], line["upstream"]) == ("redis", "http://127.0.0.1:8001/")


def test_gateway_access_line_in_the_configured_format_is_one_logfmt_line(
    configured: Configure,
) -> None:
    buffer = configured("logfmt")
    recorder(AccessLog()).record(exchange("code=abc&page=2"), 1.5)
    (line,) = buffer.getvalue().splitlines()
    assert re.match(r"timestamp=\S+Z level=info logger=termgate\.access event=request ", line)
    assert ' query="code=***&page=2" ' in line
    assert " client_ip=10.0.0.2 " in line  # the peer: no trusted proxy, X-Forwarded-For ignored
    assert line.endswith(" application_id=app-3 key_id=key-7")
