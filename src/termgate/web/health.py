"""Liveness and readiness, for load balancers and orchestrators.

`/healthz` (liveness) answers while the process serves requests at all; restarting the process is
the cure when it does not. `/readyz` (readiness) answers 200 only while the database is reachable
and writable: it writes in a transaction it rolls back, so a read-only, locked or unreachable
database takes the node out of rotation (503) without a restart. In the gateway's process its
answer also says what the gateway made of the API's OpenAPI document (`api`): the source, the
operations served and what could not be used as written.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from termgate import __version__
from termgate.problems import NOT_READY, PROBLEM_CONTENT_TYPE
from termgate.web.context import web

log = logging.getLogger(__name__)
READY_TIMEOUT = 2.0  # seconds; below SQLite's busy timeout, so a held lock shows as not ready
# A write that changes nothing and is rolled back; the table exists in every migrated database.
PROBE = text("UPDATE alembic_version SET version_num = version_num")


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok", "version": __version__})


async def _database_writable(request: Request) -> str | None:
    """None when a write goes through; else why not, in words safe to show anyone."""
    try:
        async with asyncio.timeout(READY_TIMEOUT), web(request).sessions() as session:
            await session.execute(PROBE)
            await session.rollback()
    except TimeoutError:
        return f"the database did not accept a write within {READY_TIMEOUT:g} s (locked?)"
    except Exception as error:  # any failure of the probe means "not ready", never a 500
        log.warning("readiness: the database refused a write: %s", error)
        return f"the database is unreachable or read-only ({type(error).__name__})"
    return None


async def readyz(request: Request) -> Response:
    problem = await _database_writable(request)
    if problem is None:
        answer: dict[str, Any] = {"status": "ready", "version": __version__, "database": "writable"}
        api = web(request).api_description
        if api is not None:  # served by the gateway's process: what it made of the document
            answer["api"] = api
        return JSONResponse(answer)
    return Response(
        NOT_READY.render(problem),
        status_code=NOT_READY.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers={"retry-after": "5", "cache-control": "no-store"},
    )
