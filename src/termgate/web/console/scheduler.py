"""The scheduler page: each job's next run, last run and failures, and the items acted on."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.db.programme import Administrator
from termgate.due_process.scheduler import JOBS, job_states, recent_runs
from termgate.web.console.common import page
from termgate.web.context import web
from termgate.web.pages import console_page


async def show_scheduler(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    settings = web(request).settings
    return await page(
        request,
        session,
        admin,
        "scheduler.html",
        "scheduler",
        jobs=JOBS,
        states=await job_states(session),
        runs=await recent_runs(session),
        poll=settings.scheduler_poll_seconds,
        enabled=settings.scheduler_enabled,
        single=settings.database_url.startswith("sqlite"),
    )


routes = [Route("/scheduler", console_page(show_scheduler))]
