"""The console's Mail page: the outbox's pending and failed mail with "retry now", and the mail
the local capture server received (the demo's)."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.db.programme import Administrator
from termgate.notify.capture import captured
from termgate.notify.outbox import outbox, retry_now
from termgate.web.console.common import page
from termgate.web.context import checked_form, flash, redirect, web
from termgate.web.pages import console_page

LINK = re.compile(r"(https?://[^\s<>\"']+)")


def linked(text: str) -> list[tuple[str, bool]]:
    """The text cut into plain pieces and links, so a template can link them safely."""
    return [(piece, index % 2 == 1) for index, piece in enumerate(LINK.split(text)) if piece]


async def mail(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    messages = [(message, linked(message.body)) for message in await captured(session)]
    return await page(
        request,
        session,
        admin,
        "mail.html",
        "mail",
        status_code=400 if error else 200,
        outbox=await outbox(session),
        messages=messages,
        error=error,
    )


async def retry(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    await checked_form(request)
    now = web(request).settings.now()
    message = await retry_now(session, request.path_params["mail_id"], admin.email, now)
    flash(request, f"The mail to {message.recipient} is queued again; it is tried right away.")
    return redirect("/console/mail")


async def refused(
    request: Request, session: AsyncSession, admin: Administrator, error: str
) -> Response:
    return await mail(request, session, admin, error)


routes = [
    Route("/mail", console_page(mail)),
    Route("/mail/{mail_id}/retry", console_page(retry, refused), methods=["POST"]),
]
