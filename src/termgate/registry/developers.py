"""Developer accounts (clause 1: the licence is personal to the developer who accepts it)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import Developer
from termgate.strict import control_character, control_character_problem

EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    address = email.strip().lower()
    if len(address) > 320 or not EMAIL_SHAPE.match(address) or control_character(address):
        raise RegistryError(f"{email[:80]!r} is not an e-mail address")
    return address


def require_text(label: str, value: str, limit: int = 200, multiline: bool = False) -> str:
    """Text that is not empty, not too long, and without control characters."""
    text = value.strip()
    if not text:
        raise RegistryError(f"{label} must not be empty")
    if len(text) > limit:
        raise RegistryError(f"{label} may be at most {limit} characters")
    return clean_text(label, text, multiline)


def clean_text(label: str, value: str, multiline: bool = False) -> str:
    """The text as given, or a refusal naming the field when it holds a control character
    (NUL, terminal escapes); newlines and tabs are allowed in multi-line text."""
    problem = control_character_problem(label, value, multiline)
    if problem is not None:
        raise RegistryError(problem)
    return value


async def create_developer(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    organisation: str | None = None,
    actor: str,
) -> Developer:
    """A new developer account, audited as `created` by `actor` (the developer's own address
    when they sign up, an administrator's otherwise)."""
    address = normalise_email(email)
    if await session.scalar(select(Developer.id).where(Developer.email == address)):
        raise RegistryError(f"a developer with e-mail {address} already exists")
    developer = Developer(
        email=address,
        name=require_text("name", name),
        organisation=require_text("organisation", organisation) if organisation else None,
    )
    session.add(developer)
    await session.flush()
    await record(session, actor, "created", "developer", developer.id)
    return developer


async def find_developer(session: AsyncSession, reference: str) -> Developer:
    """By id or by e-mail address."""
    column = Developer.email if "@" in reference else Developer.id
    value = reference.strip().lower() if "@" in reference else reference.strip()
    developer = await session.scalar(select(Developer).where(column == value))
    if developer is None:
        raise NotFoundError(f"no developer {reference!r} (give an id or an e-mail address)")
    return developer


async def list_developers(session: AsyncSession) -> list[Developer]:
    return list(await session.scalars(select(Developer).order_by(Developer.created_at)))
