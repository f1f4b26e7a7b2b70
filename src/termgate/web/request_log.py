"""Each control-plane request's id, its access line, and its answer when the database is down.

`RequestLog` gives every request an id (answered as `X-Request-Id`), binds it to every log line
written while the request is served, and writes the access line when the access log is on.
`database_unavailable` is the exception handler for the database faults an operator expects (the
database unreachable, restarting, not migrated): a 503 problem and one rate-limited log line,
never a traceback per request.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from typing import Any

import structlog
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from termgate.core.access_log import AccessLog
from termgate.core.faults import FaultLog
from termgate.problems import PROBLEM_CONTENT_TYPE, STORE_UNAVAILABLE

log = logging.getLogger("termgate.web")
# What an unreachable, restarting or unmigrated database raises under a request: the driver's
# errors as SQLAlchemy wraps them, a pool that cannot hand out a connection, and the socket
# errors asyncpg raises itself while connecting. A DBAPIError of another kind (a constraint, a
# bug in a query) stays a 500 with its traceback.
DATABASE_FAULTS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeoutError,
    ConnectionError,
    TimeoutError,
)
# SQLSTATE classes of a database that cannot serve: connection exceptions, insufficient
# resources, operator intervention (shutdown, not accepting connections yet), and a database
# that does not allow connections (55000).
UNAVAILABLE_STATES = ("08", "53", "57P", "55000")


def is_database_fault(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached or cannot serve right now."""
    if isinstance(error, DATABASE_FAULTS):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return isinstance(state, str) and state.startswith(UNAVAILABLE_STATES)
    return False


RETRY_AFTER = "5"
_faults = FaultLog(log, "serving control-plane requests", quiet_reset=True)


async def database_unavailable(request: Request, error: Exception) -> Response:
    if not is_database_fault(error):
        raise error  # not an outage: the 500 and traceback of any other fault
    _faults.failed(error, f"{request.method} {request.url.path} answered 503")
    what = "its database" if isinstance(error, SQLAlchemyError) else "a service it depends on"
    detail = f"termgate cannot reach {what} right now; try again in a few seconds"
    return Response(
        STORE_UNAVAILABLE.render(detail, instance=request.scope.get("request_id")),
        status_code=STORE_UNAVAILABLE.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers={"retry-after": RETRY_AFTER},
    )


def fault_handlers() -> dict[Any, Any]:
    """The exception handlers of an application (the control plane, the admin API)."""
    return dict.fromkeys((*DATABASE_FAULTS, DBAPIError), database_unavailable)


class RequestLog:
    """Request ids, bound log context and the optional access line (see the module)."""

    def __init__(self, app: ASGIApp, access: AccessLog | None = None) -> None:
        self.app = app
        self.access = access
        self.prefix = os.urandom(6).hex() + "-c"
        self.ids = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"{self.prefix}{next(self.ids):x}"
        scope["request_id"] = request_id
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        status, sent = 500, 0
        started = time.perf_counter()

        async def answer(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            if self.access is not None:
                self._line(scope, request_id, status, sent, started)
            structlog.contextvars.reset_contextvars(**tokens)

    def _line(self, scope: Scope, request_id: str, status: int, sent: int, started: float) -> None:
        assert self.access is not None
        client = scope.get("client")
        self.access.line(
            plane="control",
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            status=status,
            sent=sent,
            duration_ms=(time.perf_counter() - started) * 1000.0,
            client=client[0] if client else "",
            request_id=request_id,
        )
