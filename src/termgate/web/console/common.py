"""What every console page shares: the layout's context and the reasons forms ask for."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from termgate.db.programme import Administrator, ProductionRequest, ReviewState
from termgate.web.context import render


async def pending_reviews(session: AsyncSession) -> int:
    query = select(func.count()).where(ProductionRequest.state == ReviewState.PENDING)
    return int(await session.scalar(query) or 0)


async def page(
    request: Request,
    session: AsyncSession,
    admin: Administrator | None,
    template: str,
    here: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A console page in the console's layout: navigation, the signed-in administrator."""
    pending = await pending_reviews(session) if admin is not None else 0
    return render(
        request,
        f"console/{template}",
        status_code=status_code,
        area="console",
        here=here,
        admin=admin,
        pending=pending,
        **context,
    )
