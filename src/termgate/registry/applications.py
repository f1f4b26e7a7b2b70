"""Applications: what a developer builds on the API; every credential belongs to one (clause 2)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import Application, Developer
from termgate.registry.developers import require_text
from termgate.registry.errors import NotFoundError, RegistryError


async def create_application(
    session: AsyncSession,
    developer: Developer,
    *,
    name: str,
    description: str = "",
    use_case: str = "",
) -> Application:
    title = require_text("application name", name)
    taken = await session.scalar(
        select(Application.id).where(
            Application.developer_id == developer.id, Application.name == title
        )
    )
    if taken:
        raise RegistryError(f"{developer.email} already has an application named {title!r}")
    application = Application(
        developer_id=developer.id,
        name=title,
        description=description.strip(),
        use_case=use_case.strip(),
    )
    session.add(application)
    await session.flush()
    return application


async def find_application(session: AsyncSession, reference: str) -> Application:
    """By id, or by name where exactly one application has it."""
    by_id = await session.get(Application, reference.strip())
    if by_id is not None:
        return by_id
    named = list(await session.scalars(select(Application).where(Application.name == reference)))
    if len(named) == 1:
        return named[0]
    if named:
        raise RegistryError(f"{len(named)} applications are named {reference!r}; give the id")
    raise NotFoundError(f"no application {reference!r} (give an id or a name)")


async def list_applications(
    session: AsyncSession, developer: Developer | None = None
) -> list[Application]:
    query = select(Application).order_by(Application.created_at)
    if developer is not None:
        query = query.where(Application.developer_id == developer.id)
    return list(await session.scalars(query))
