"""The control plane's log: request ids, the optional access line, one decision line per audited
change, and a database that is down answered 503 with one log line and no traceback."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from termgate.core.faults import FaultLog
from termgate.db.engine import create_engine
from termgate.settings import Settings
from termgate.web import request_log
from termgate.web.app import create_control_app
from tests.conftest import free_port
from tests.support.logs import Configure, configured
from tests.web.conftest import Programme, Site, seed_programme

__all__ = ["configured"]  # the fixture


def access_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "termgate.access"]


async def test_access_log_off_writes_no_access_lines(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        answer = await site.client.get("/portal?code=abc")
    assert answer.status_code == 200
    assert answer.headers["x-request-id"]
    assert access_lines(caplog) == []


async def test_access_log_on_is_one_line_per_request_with_secrets_masked(
    site: Site, engine: AsyncEngine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_control_app(replace_settings(settings, access_log=True), engine)
    logged = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 5000)),
        base_url="http://portal.test",
    )
    with caplog.at_level(logging.INFO, "termgate.access"):
        first = await logged.get("/portal?code=SECRET-CODE&state=s1")
        await logged.get("/healthz")
    one, two = access_lines(caplog)
    assert (one.method, one.path, one.status) == ("GET", "/portal", 200)  # type: ignore[attr-defined]
    assert one.query == "code=***&state=s1"  # type: ignore[attr-defined]
    assert one.request_id == first.headers["x-request-id"]  # type: ignore[attr-defined]
    assert one.bytes == len(first.content)  # type: ignore[attr-defined]
    assert one.client_ip == "127.0.0.1"  # type: ignore[attr-defined]
    assert two.path == "/healthz"  # type: ignore[attr-defined]
    assert "SECRET-CODE" not in caplog.text


async def test_a_suspension_is_one_decision_line_naming_actor_and_reason(
    site: Site, configured: Configure
) -> None:
    programme: Programme = await seed_programme(site)
    buffer = configured("json")
    answer = await site.client.post(
        f"/admin/api/developers/{programme.developer_id}/suspend",
        json={"reason": "scraping beyond the plan"},
        headers=programme.auth,
    )
    assert answer.status_code == 200, answer.text
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    decisions = [line for line in lines if line["event"] == "decision"]
    assert len(decisions) == 1, lines
    (decision,) = decisions
    assert decision["action"] == "suspended"
    assert decision["entity_id"] == programme.developer_id
    assert decision["reason"] == "scraping beyond the plan"
    assert decision["actor"]
    assert decision["request_id"] == answer.headers["x-request-id"]


async def test_a_refused_change_writes_no_decision_line(site: Site, configured: Configure) -> None:
    programme = await seed_programme(site)
    suspend = f"/admin/api/developers/{programme.developer_id}/suspend"
    await site.client.post(suspend, json={"reason": "first"}, headers=programme.auth)
    buffer = configured("json")
    again = await site.client.post(suspend, json={"reason": "twice"}, headers=programme.auth)
    assert again.status_code == 409
    assert '"decision"' not in buffer.getvalue()


@pytest.fixture
def dead_database_app(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> httpx.AsyncClient:
    """The control plane on a PostgreSQL address where nothing listens (the database is down)."""
    monkeypatch.setattr(
        request_log, "_faults", FaultLog(request_log.log, "serving control-plane requests")
    )
    url = f"postgresql+asyncpg://termgate:hunter2@127.0.0.1:{free_port()}/termgate"
    app = create_control_app(replace_settings(settings, database_url=url), create_engine(url))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal.test")


def replace_settings(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update=changes)


async def test_database_down_is_a_503_problem_and_one_log_line_without_traceback(
    dead_database_app: httpx.AsyncClient, configured: Configure
) -> None:
    buffer = configured("json")
    auth = {"authorization": "Bearer tga_whatever"}
    answers = [await dead_database_app.get("/admin/api/developers", headers=auth) for _ in range(5)]
    page = await dead_database_app.get("/portal/terms")
    for answer in [*answers, page]:
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["retry-after"] == "5"
        problem = answer.json()
        assert (problem["code"], problem["instance"]) == (50304, answer.headers["x-request-id"])
        assert "hunter2" not in answer.text
        assert "127.0.0.1" not in answer.text
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert len(lines) == 1, lines
    (line,) = lines
    assert line["level"] == "error"
    assert line["event"].startswith("serving control-plane requests failed: ")
    assert line["request_id"] == answers[0].headers["x-request-id"]
    assert "exception" not in line
    assert "hunter2" not in buffer.getvalue()
