"""The review queue: production requests approved or rejected with a reason (clause 3.2)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import RegistryError
from termgate.db.models import Application, Developer
from termgate.db.programme import Administrator, ProductionRequest, ReviewState
from termgate.registry.applications import USE_CASE_CATEGORIES
from termgate.registry.reviews import decide, review_queue
from termgate.web.console.common import page
from termgate.web.context import checked_form, field, flash, redirect
from termgate.web.pages import console_page


async def show_reviews(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    queue = await review_queue(session)
    developers = {
        d.id: d
        for d in await session.scalars(
            select(Developer).where(Developer.id.in_({a.developer_id for _, a in queue}))
        )
    }
    decided = await session.execute(
        select(ProductionRequest, Application)
        .join(Application, ProductionRequest.application_id == Application.id)
        .where(ProductionRequest.state != ReviewState.PENDING)
        .order_by(ProductionRequest.decided_at.desc())
        .limit(20)
    )
    return await page(
        request,
        session,
        admin,
        "reviews.html",
        "reviews",
        queue=[(r, a, developers[a.developer_id]) for r, a in queue],
        decided=[(review, application) for review, application in decided],
        categories=USE_CASE_CATEGORIES,
        error=error,
        error_for=request.path_params.get("review_id", ""),
    )


async def decide_review(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    decision = field(form, "decision")
    if decision not in ("approve", "reject"):
        raise RegistryError("choose Approve or Reject")
    review = await decide(
        session,
        request.path_params["review_id"],
        approve=decision == "approve",
        reason=field(form, "reason"),
        actor=admin.email,
    )
    application = await session.get_one(Application, review.application_id)
    verdict = "approved" if decision == "approve" else "rejected"
    flash(
        request,
        f"Production access for {application.name} {verdict}; a notice to the developer is queued.",
    )
    return redirect("/console/reviews")


routes = [
    Route("/reviews", console_page(show_reviews)),
    Route(
        "/reviews/{review_id}/decide",
        console_page(decide_review, show_reviews),
        methods=["POST"],
    ),
]
